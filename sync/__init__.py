"""Signed content bundles, hub endpoints, terminal pull/apply, upstream outbox/inbox."""
from __future__ import annotations


def init_app(app) -> None:
    """Wire the sync blueprints and the terminal's freshness notice into the app."""
    from . import fleet, hub
    try:
        from content.security import csrf  # noqa: PLC0415
    except ImportError:                     # an instance without the admin's web security
        csrf = None
    if csrf is not None:
        csrf.exempt(hub.bp)                 # machine requests, each signed by the terminal's key
    app.register_blueprint(hub.bp)
    # Terminals sign their requests (see sync.hub); browser CSRF tokens do not apply.
    from content.security import csrf  # noqa: PLC0415
    csrf.exempt(hub.bp)
    app.register_blueprint(fleet.bp)
    app.context_processor(fleet.freshness_context)
    if app.config.get("DATA_DIR"):
        app.wsgi_app = hub.NotModifiedFastPath(app.wsgi_app, app.config["DATA_DIR"])
