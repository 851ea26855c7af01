"""/healthz and /metrics: whether this instance is well, and numbers for the county's monitoring.

``/healthz`` answers ``"status": "ok"`` only when nothing is wrong; otherwise ``"degraded"``
with ``reasons``, each ``code: 中文说明`` so an alert can match the code and a person can read
the rest. ``/metrics`` is the Prometheus text format: instance gauges read from the database
at scrape time, and request counts and latencies by route counted as requests are answered.
Neither carries personal data: routes are URL rules (``/notices/<id:notice_id>``), never paths
with their query strings.
"""
from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from content import db, outbox
from content.db import get_db, get_meta

bp = Blueprint("health", __name__)
access_log = logging.getLogger("kiosk.access")

OUTBOX_BACKLOG = 500            # pending upstream records before the outbox counts as backing up
OUTBOX_OLDEST_HOURS = 24        # or the oldest pending record waiting longer than this
DISK_MIN_FREE_BYTES = 200 * 1024 * 1024
DISK_MIN_FREE_SHARE = 0.05
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        dt = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _disk(data_dir: str | None):
    if not data_dir:
        return None
    try:
        return shutil.disk_usage(data_dir)
    except OSError:
        return None


def _outbox_oldest(conn) -> datetime | None:
    row = conn.execute("SELECT min(created_at) FROM outbox "
                       "WHERE sent_at IS NULL AND rejected IS NULL").fetchone()
    return _parse(row[0]) if row else None


def reasons(conn, cfg, now: datetime | None = None) -> list[str]:
    """What is wrong with this instance now; empty when all is well."""
    now = now or datetime.now(timezone.utc)
    role = cfg.get("ROLE", "standalone")
    found = []
    if role == "terminal":
        error = get_meta(conn, "sync_last_error")
        if error:
            found.append(f"sync_failing: 同步失败：{error}")
        from sync import terminal  # noqa: PLC0415  (kiosk may use sync; only terminals need it)
        fresh = terminal.freshness(conn, float(cfg.get("STALE_HOURS", 72)), now)
        if fresh["stale"]:
            found.append(f"content_stale: {fresh['reason']}")
        pending = outbox.pending_count(conn)
        oldest = _outbox_oldest(conn)
        if pending > OUTBOX_BACKLOG or (
                oldest and (now - oldest).total_seconds() > OUTBOX_OLDEST_HOURS * 3600):
            found.append(f"outbox_backlog: 有 {pending} 条记录等待上传到县级平台"
                         + (f"，最早的已等待 {int((now - oldest).total_seconds() // 3600)} 小时"
                            if oldest else ""))
    elif role == "hub":
        error = get_meta(conn, "publish_last_error")
        if error:
            found.append(f"publish_failing: 发布内容包失败：{error}")
    usage = _disk(cfg.get("DATA_DIR"))
    if usage and (usage.free < DISK_MIN_FREE_BYTES or usage.free < usage.total * DISK_MIN_FREE_SHARE):
        found.append(f"disk_low: 数据目录所在磁盘仅剩 {usage.free / 2**20:.0f} MB 可用")
    return found


@bp.route("/healthz")
def healthz():
    conn = get_db()
    version = get_meta(conn, "content_version")
    problems = reasons(conn, current_app.config)
    return jsonify({
        "role": current_app.config.get("ROLE", "standalone"),
        "content_version": int(version) if version and version.isdigit() else None,
        "last_sync": get_meta(conn, "last_sync"),
        "status": "degraded" if problems else "ok",
        "reasons": problems,
    })


class _InstanceCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        cfg = self.app.config
        role = cfg.get("ROLE", "standalone")
        conn = db.connect(cfg["DATABASE"])
        try:
            now = datetime.now(timezone.utc)
            info = GaugeMetricFamily("kiosk_info", "This instance's role.", labels=["role"])
            info.add_metric([role], 1)
            yield info
            version = get_meta(conn, "content_version")
            yield GaugeMetricFamily("kiosk_content_version", "Content version applied or published.",
                                    value=int(version) if version and version.isdigit() else 0)
            updated = _parse(get_meta(conn, "content_updated"))
            if updated:
                yield GaugeMetricFamily("kiosk_content_age_seconds", "Seconds since the content last changed.",
                                        value=(now - updated).total_seconds())
            last = _parse(get_meta(conn, "last_sync"))
            yield GaugeMetricFamily("kiosk_last_sync_timestamp_seconds",
                                    "Unix time of the last successful sync (0: never).",
                                    value=last.timestamp() if last else 0)
            yield GaugeMetricFamily("kiosk_outbox_pending", "Upstream records waiting to be sent.",
                                    value=outbox.pending_count(conn))
            if role != "terminal":
                queue = GaugeMetricFamily("kiosk_notifications", "Notification deliveries by state.",
                                          labels=["state"])
                counts = dict(conn.execute("SELECT status, count(*) FROM notify_delivery GROUP BY status"))
                for state in ("pending", "digest", "failed"):
                    queue.add_metric([state], counts.get(state, 0))
                yield queue
            problems = reasons(conn, cfg, now)
            yield GaugeMetricFamily("kiosk_degraded", "1 when /healthz says degraded.",
                                    value=1 if problems else 0)
            usage = _disk(cfg.get("DATA_DIR"))
            if usage:
                yield GaugeMetricFamily("kiosk_disk_free_bytes", "Free bytes on the data folder's disk.",
                                        value=usage.free)
            if role == "hub":
                published = _parse(get_meta(conn, "sync_published_at"))
                yield GaugeMetricFamily("kiosk_last_publish_timestamp_seconds",
                                        "Unix time of the last publish round (0: never).",
                                        value=published.timestamp() if published else 0)
                seen = GaugeMetricFamily("kiosk_terminals", "Enrolled terminals by how recently they were seen.",
                                         labels=["seen"])
                for label, hours in (("1h", 1), ("24h", 24), ("72h", 72)):
                    count = conn.execute(
                        "SELECT count(*) FROM sync_terminal WHERE active AND last_contact >= ?",
                        ((datetime.fromtimestamp(now.timestamp() - hours * 3600, timezone.utc)
                          .strftime("%Y-%m-%dT%H:%M:%SZ")),)).fetchone()[0]
                    seen.add_metric([label], count)
                seen.add_metric(["ever"], conn.execute(
                    "SELECT count(*) FROM sync_terminal WHERE active").fetchone()[0])
                yield seen
        finally:
            conn.close()


class Metrics:
    """The app's own registry (tests build many apps in one process)."""

    def __init__(self, app):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("kiosk_http_requests", "Requests answered, by route and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("kiosk_http_request_duration_seconds", "Time to answer, by route.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.board_polls = Counter("kiosk_board_polls", "Noticeboard polls answered.",
                                   registry=self.registry)
        self.registry.register(_InstanceCollector(app))


def init_app(app) -> None:
    """Register /healthz, /metrics, request counting and the access log."""
    metrics = Metrics(app)
    app.extensions["kiosk_metrics"] = metrics
    app.register_blueprint(bp)

    # The clock starts as the request enters the app, before any before_request hook: the
    # page cache answers hits from the first one, and those must be counted too.
    inner = app.wsgi_app

    def clocked(environ, start_response):
        environ["kiosk.started"] = time.perf_counter()
        return inner(environ, start_response)
    app.wsgi_app = clocked

    @app.after_request
    def count_request(response):
        start = request.environ.get("kiosk.started")
        if start is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.requests.labels(route, request.method, str(response.status_code)).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - start)
            if request.endpoint == "display.board_slides":
                metrics.board_polls.inc()
            # One line per request in the common log format plus the time taken; the path
            # without its query string, which may hold what a resident typed.
            access_log.info('%s - - "%s %s %s" %s %s %.3f', request.remote_addr or "-",
                            request.method, request.path, request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                            # the header only: calculate_content_length() would buffer a
                            # streamed answer whole to count it
                            response.status_code, response.content_length or "-",
                            time.perf_counter() - start)
        return response

    @app.route("/metrics")
    def prometheus_metrics():
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)

