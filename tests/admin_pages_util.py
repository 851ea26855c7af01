"""Every admin page a signed-in administrator can open with GET, and what each one costs.

Shared by tests/test_admin_pages.py (statement guard on the demo instance, in `make test`)
and tests/bench/test_admin_pages_bench.py (server time and statements on the bench county).
Routes are read from the app's URL map, so a new admin page is covered without editing
this file; a page whose URL takes an argument this file cannot fill makes the guard fail
and name it.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass

from content import db

MAX_STATEMENTS = 50

# Not pages: downloads, pictures and the login form itself; and the 公开评估 dashboard and its
# exports, measured on their own (tests/bench/test_assessment_bench.py).
SKIPPED = re.compile(r"\.(xlsx|jpg|png|csv)$|/static/|/attachments/|^/admin/login$|^/admin/assessment/"
                     r"|^/admin/export$|/preview/slides$")


VILLAGE = "340499100201"      # 杏花村 of the demo instance
EXTRA = 260


def add_busy_rows(conn, extra: int = EXTRA) -> None:
    """``extra`` more notices of one demo village, each with an open revision and audit rows:
    enough that a list has several pages and a per-row look-up shows in the statement count."""
    author = conn.execute("SELECT id FROM user WHERE username = 'village-editor'").fetchone()[0]
    base = conn.execute("SELECT * FROM notice WHERE jurisdiction_code = ? ORDER BY id LIMIT 1",
                        (VILLAGE,)).fetchone()
    cols = [c for c in base.keys() if c not in ("id", "title", "updated_at", "status")]
    with conn:
        for i in range(extra):
            nid = conn.execute(
                f"INSERT INTO notice({', '.join(cols)}, title, updated_at, status) "
                f"VALUES ({', '.join('?' * len(cols))}, ?, ?, ?)",
                [base[c] for c in cols] + [f"测试公示{i:03d}", f"2026-0{1 + i % 9}-{10 + i % 18}T08:{i % 60:02d}:00Z",
                                           "published" if i % 3 else "draft"]).lastrowid
            data = json.dumps({"jurisdiction_code": VILLAGE, "title": f"测试公示{i:03d}"}, ensure_ascii=False)
            state = ("submitted", "draft", "returned")[i % 3]
            conn.execute("INSERT INTO revision(entity, entity_id, rev, data, state, author_id, created_at, "
                         "jurisdiction_code, submitted_at) VALUES ('notice', ?, 2, ?, ?, ?, ?, ?, ?)",
                         (nid, data, state, author, f"2026-11-{1 + i % 28:02d}T09:00:00Z", VILLAGE,
                          "2026-11-30T10:00:00Z" if state == "submitted" else None))
            for action in ("create", "submit"):
                conn.execute("INSERT INTO audit_log(at, user_id, username, action, entity, entity_id, after) "
                             "VALUES (?, ?, 'village-editor', ?, 'notice', ?, ?)",
                             (f"2026-11-{1 + i % 28:02d}T09:{i % 60:02d}:00Z", author, action, str(nid), data))


@dataclass
class PageCost:
    url: str
    status: int
    statements: int
    seconds: float
    size: int


def admin_urls(app, conn) -> tuple[list[str], list[str]]:
    """(URLs of every admin GET page, rules that could not be filled)."""
    from content.admin import KINDS
    samples = _samples(conn)
    urls, unfilled = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or SKIPPED.search(rule.rule):
            continue
        args = set(rule.arguments)
        if "kind" in args:
            for kind, table in KINDS.items():
                values = {"kind": kind}
                if "obj_id" in args:
                    values["obj_id"] = conn.execute(
                        f"SELECT id FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
                    if values["obj_id"] is None:
                        continue
                    values["obj_id"] = values["obj_id"][0]
                if "rev" in args:
                    r = conn.execute("SELECT MAX(rev) FROM revision WHERE entity = ? AND entity_id = ?",
                                     (table, values["obj_id"])).fetchone()[0]
                    if r is None:
                        continue
                    values["rev"] = r
                if args - set(values):
                    unfilled.append(rule.rule)
                    break
                urls.append(_build(app, rule, values))
            continue
        if rule.rule.startswith("/admin/boards/") and "obj_id" in args:
            board = conn.execute("SELECT id FROM board ORDER BY id LIMIT 1").fetchone()
            if board:
                urls.append(_build(app, rule, {"obj_id": board[0]}))
            continue
        values = {a: samples.get(a) for a in args}
        missing = [a for a, v in values.items() if v is None]
        if missing:
            if any(a not in samples for a in missing):
                unfilled.append(rule.rule)
            continue        # the instance has no such object (e.g. no applications yet)
        urls.append(_build(app, rule, values))
    return urls, unfilled


def _samples(conn) -> dict[str, str | None]:
    """Values for the arguments of admin URLs, taken from the instance itself."""
    out = {}
    for key, sql in (("user_id", "SELECT id FROM user WHERE role = 'village_editor' ORDER BY id LIMIT 1"),
                     ("record_uuid", "SELECT uuid FROM application ORDER BY received_on DESC LIMIT 1"),
                     ("notice_id", "SELECT id FROM notice WHERE status = 'published' ORDER BY id DESC LIMIT 1"),
                     ("template_id", "SELECT id FROM village_template ORDER BY id LIMIT 1"),
                     ("item_id", "SELECT id FROM village_template_item ORDER BY id LIMIT 1"),
                     ("year", "SELECT MAX(year) FROM holiday_year"),
                     ("terminal_id", "SELECT id FROM sync_terminal ORDER BY id LIMIT 1"),
                     ("doc_id", "SELECT id FROM application_document ORDER BY id LIMIT 1"),
                     ("letter_id", "SELECT id FROM application_letter ORDER BY id LIMIT 1")):
        try:
            row = conn.execute(sql).fetchone()
            out[key] = str(row[0]) if row and row[0] is not None else None
        except sqlite3.OperationalError:     # a table this instance's role does not have
            out[key] = None
    return out


def _build(app, rule, values: dict) -> str:
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **values)


def measure(app, client, url: str) -> PageCost:
    """GET ``url`` in-process, counting every SQL statement the request runs."""
    seen: list[str] = []
    real = db.connect

    def traced(*a, **kw):
        c = real(*a, **kw)
        c.set_trace_callback(seen.append)
        return c

    db.connect = traced
    try:
        t0 = time.perf_counter()
        r = client.get(url)
        body = r.get_data()
        seconds = time.perf_counter() - t0
    finally:
        db.connect = real
    # Connection set-up (PRAGMAs) is not the page's work.
    statements = [s for s in seen if not s.lstrip().upper().startswith("PRAGMA")]
    return PageCost(url, r.status_code, len(statements), seconds, len(body))
