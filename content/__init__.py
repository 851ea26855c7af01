"""The domain: schema, store, catalogue, alignment, notices, guides and the admin.

Nothing in here imports kiosk, display or sync: they depend on content, never
the other way round.
"""
