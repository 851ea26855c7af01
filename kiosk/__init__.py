"""The Flask app factory and the resident touchscreen UI."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, render_template
from flask_htmx import HTMX
from werkzeug.routing import BaseConverter

from content import db

from . import config

htmx = HTMX()


class IdConverter(BaseConverter):
    """A row id: digits only and short enough for SQLite's 64-bit integers."""
    regex = r"[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


class CodeConverter(BaseConverter):
    """A 12-digit administrative division code."""
    regex = r"[0-9]{12}"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app for one instance (standalone, hub or terminal)."""
    app = Flask(__name__)
    app.config.from_mapping(config.DEFAULTS)
    test_config = dict(test_config or {})
    data_dir = test_config.get("DATA_DIR") or app.config.get("DATA_DIR")
    if data_dir:
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        app.config.update(config.read_instance_config(data_dir))
        app.config["DATA_DIR"] = str(data_dir)
        app.config["DATABASE"] = str(data_dir / config.DATABASE_NAME)
        app.config["SECRET_KEY"] = config.secret_key(data_dir)
    app.config.update(test_config)
    if "DATABASE" not in app.config:
        raise RuntimeError("create_app needs DATA_DIR or DATABASE")

    conn = db.open_database(app.config["DATABASE"])  # migrations run on start
    conn.close()

    db.init_app(app)
    from content import holidays
    holidays.init_app(app)  # working days on this instance's holiday calendar
    htmx.init_app(app)
    # htmx is fetched at `make setup`; without it every screen still works as plain pages.
    app.config.setdefault(
        "HTMX_AVAILABLE", (Path(app.static_folder) / "vendor" / "htmx.min.js").exists())
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["code"] = CodeConverter

    from . import views
    app.register_blueprint(views.bp)
    from content import admin, security
    security.init_app(app)  # CSRF, cookies, login throttling, security headers
    app.register_blueprint(admin.bp)
    from content.admin import assessment as assessment_admin  # /admin/assessment
    app.register_blueprint(assessment_admin.bp)
    from content.admin import holidays_views  # /admin/holidays: the holiday calendar
    app.register_blueprint(holidays_views.bp)
    from content.admin import golive_views  # /admin/golive: the go-live checklist
    app.register_blueprint(golive_views.bp)
    from content.admin import templates_views  # /admin/templates: village-list templates
    app.register_blueprint(templates_views.bp)
    from . import citizen
    app.register_blueprint(citizen.bp)  # applications, ratings, consultations
    from . import questions
    app.register_blueprint(questions.bp)  # 公示异议, 村务质询, 办事咨询 and their answers

    import sync  # county sync: /sync/v1/, /admin/fleet, the terminal's freshness notice
    sync.init_app(app)
    from display.views import bp as display_bp
    app.register_blueprint(display_bp)
    from display import proof as display_proof   # boards report what they showed (公示留痕)
    app.register_blueprint(display_proof.bp)
    security.csrf.exempt(display_proof.bp)       # a machine request from this machine only
    from . import health
    health.init_app(app)    # /healthz, /metrics, request counts, access log
    from . import pagecache
    pagecache.init_app(app)  # resident pages, dropped on any database commit
    from . import touch  # search, 适老化, attract screen, print sheets, usage counts
    app.register_blueprint(touch.bp)
    from . import pictures  # /pictures/<sha256>: attachments as residents see them
    app.register_blueprint(pictures.bp)
    from . import ime  # handwriting pad and pinyin candidates for the on-screen keyboards
    app.register_blueprint(ime.bp)
    from . import policy_views  # 政策文件 and their 解读
    app.register_blueprint(policy_views.bp)

    from . import assets  # static files under content-hashed URLs, cached for a year
    assets.init_app(app)
    from . import compression  # gzip/brotli over the network, never with a secret in it
    compression.init_app(app)

    @app.errorhandler(404)
    def not_found(_e):
        return render_template("errors/404.html"), 404

    @app.errorhandler(400)
    def bad_request(_e):
        return render_template("errors/400.html"), 400

    @app.errorhandler(500)
    def server_error(_e):
        return render_template("errors/500.html"), 500

    @app.after_request
    def no_cache_for_htmx(response):
        # Fragments and full pages share a URL: caches must tell them apart.
        response.vary.add("HX-Request")
        return response

    return app
