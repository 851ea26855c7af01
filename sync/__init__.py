"""Signed content bundles, hub endpoints, terminal pull/apply, upstream outbox/inbox."""
