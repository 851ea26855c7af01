"""A year of staff-side history for the bench county: what a county accumulates by December.

At scale 1.0: 832 accounts (2 county administrators, an editor per township, an editor and
a 村务监督委员会 member per village), ~129k revisions (every notice's published revision,
earlier superseded ones, drafts, submissions and returns waiting in the queues), ~428k audit
rows (create, save, submit, approve, return, sign-ins), 434 enrolled terminals (one per
village, township and four in the county hall) and ~1.17M usage rows (the daily view counts
each terminal pushed since 1 January).

Written into the same transaction as the rest of the county by tests/bench/generate.py.
The county administrator signs in as ``admin`` / ``BENCH_PASSWORD``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import date, datetime, timedelta

from content import assessment_usage

BENCH_ADMIN = "admin"
BENCH_PASSWORD = "bench-pass-2026"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stamp(d: date, seconds: int) -> str:
    return (datetime(d.year, d.month, d.day) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_history(conn, rng: random.Random, today: date, county: str, towns: list[str],
                villages: dict[str, list[str]], scale: float) -> dict:
    """Accounts, revisions, audit, terminals and usage; return counts."""
    from content.users import hash_password

    all_villages = [v for t in towns for v in villages[t]]
    # -- accounts
    users = [(1, BENCH_ADMIN, hash_password(BENCH_PASSWORD), "县政务公开办", "county_admin", county),
             (2, "admin2", "!", "县政务公开办（二）", "county_admin", county)]
    editor_of: dict[str, int] = {county: 1}
    for t in towns:
        users.append((len(users) + 1, f"t{t}", "!", f"乡镇编辑{t[-6:-3]}", "township_editor", t))
        editor_of[t] = len(users)
    for v in all_villages:
        users.append((len(users) + 1, f"v{v}", "!", f"村编辑{v[-6:]}", "village_editor", v))
        editor_of[v] = len(users)
        users.append((len(users) + 1, f"s{v}", "!", f"村监委{v[-6:]}", "village_supervisor", v))
    conn.executemany("INSERT INTO user(id, username, password_hash, display_name, role, "
                     "jurisdiction_code, created_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-02T01:00:00Z')",
                     users)
    reviewer_of = {code: (1 if code == county or code in villages else editor_of[code[:9] + "000"])
                   for code in editor_of}

    # -- revisions and audit for every notice (the bulk of both tables)
    notices = conn.execute("SELECT id, jurisdiction_code, kind, title, body, fields, table_columns, "
                           "table_rows, published_at FROM notice ORDER BY id").fetchall()
    revisions, audit = [], []
    twice = set(rng.sample(range(len(notices)), k=len(notices) * 27 // 100))
    pending = rng.sample(range(len(notices)), k=min(len(notices), round(2000 * scale) or 1))
    pending_state = {n: rng.choice(("draft", "draft", "submitted", "submitted", "returned"))
                     for n in pending}
    top_rev = {}
    for n, (nid, code, kind, title, body, fields, cols, rows, published_at) in enumerate(notices):
        data = {"jurisdiction_code": code, "kind": kind, "title": title, "body": body,
                "fields": json.loads(fields), "table_columns": json.loads(cols),
                "table_rows": json.loads(rows)}
        text = _dumps(data)
        author, reviewer = editor_of.get(code, 1), reviewer_of.get(code, 1)
        day = date.fromisoformat(published_at[:10])
        created = _stamp(day - timedelta(days=1), 9 * 3600 + n % 3600)
        approved = _stamp(day, 3600 + n % 1800)
        revs = [1, 2] if n in twice else [1]
        for rev in revs:
            state = "published" if rev == revs[-1] else "superseded"
            revisions.append(("notice", nid, rev, text, state, author, created, code, created,
                              reviewer, approved))
            audit.append((created, author, "create" if rev == 1 else "save", "notice", str(nid), None,
                          text))
            audit.append((created, author, "submit", "notice", str(nid), None, _dumps({"rev": rev})))
            audit.append((approved, reviewer, "approve", "notice", str(nid), None, _dumps({"rev": rev})))
        top_rev[nid] = revs[-1]
        if n in pending_state:
            state = pending_state[n]
            when = _stamp(today - timedelta(days=n % 20), 8 * 3600 + n % 3600)
            revisions.append(("notice", nid, revs[-1] + 1, text, state, author, when, code,
                              when if state != "draft" else None, reviewer if state == "returned" else None,
                              when if state == "returned" else None))
            audit.append((when, author, "save", "notice", str(nid), text, text))
            if state != "draft":
                audit.append((when, author, "submit", "notice", str(nid), None, _dumps({"rev": revs[-1] + 1})))
            if state == "returned":
                audit.append((when, reviewer, "return", "notice", str(nid), None,
                              _dumps({"rev": revs[-1] + 1, "reason": "表格金额与名单不符，请核对"})))
    conn.executemany(
        "INSERT INTO revision(entity, entity_id, rev, data, state, author_id, created_at, "
        "jurisdiction_code, submitted_at, reviewer_id, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        revisions)
    conn.executemany("UPDATE notice SET rev = ?, created_by = ? WHERE id = ?",
                     [(top_rev[nid], editor_of.get(code, 1), nid) for nid, code, *_ in notices])
    # sign-ins: every account now and then, editors most working days
    names = {u[0]: u[1] for u in users}
    start = date(today.year, 1, 1)
    days = (today - start).days
    logins = round(len(audit) * 0.1) or 1
    for k in range(logins):
        uid = rng.randrange(1, len(users) + 1)
        when = _stamp(start + timedelta(days=rng.randrange(days)), rng.randrange(8 * 3600, 18 * 3600))
        audit.append((when, uid, "login", "user", str(uid), None, None))
    audit.sort(key=lambda r: r[0])
    conn.executemany("INSERT INTO audit_log(at, user_id, username, action, entity, entity_id, before, "
                     "after, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '10.0.0.8')",
                     [(at, uid, names.get(uid, ""), action, entity, eid, before, after)
                      for at, uid, action, entity, eid, before, after in audit])

    # -- terminals: one per village and township, four in the county hall
    scopes = all_villages + towns + [county] * 4
    terminals = []
    for k, scope in enumerate(scopes):
        key = hashlib.sha256(f"bench-terminal-{k}".encode()).digest()
        tid = hashlib.sha256(key).hexdigest()
        contact = _stamp(today, rng.randrange(0, 3600)) if rng.random() < 0.97 else _stamp(
            today - timedelta(days=rng.randint(2, 9)), 3600)
        terminals.append((tid, base64.b64encode(key).decode(), scope, "2026-01-05T02:00:00Z", contact,
                          f"10.{k // 250}.{k % 250}.10", contact, f"查询机{k + 1}"))
    conn.executemany("INSERT INTO sync_terminal(id, public_key, scope, enrolled_at, last_contact, "
                     "remote_addr, last_sync, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", terminals)

    # -- usage: the daily counts each terminal pushed, ~8 pages a day, from its own scope
    refs: dict[str, list[tuple[str, int]]] = {}
    for nid, code in conn.execute("SELECT id, jurisdiction_code FROM notice"):
        refs.setdefault(code, []).append(("notice", nid))
    for vid, code in conn.execute("SELECT id, jurisdiction_code FROM village_item"):
        refs.setdefault(code, []).append(("village_item", vid))
    for iid, code in conn.execute("SELECT id, jurisdiction_code FROM catalogue_item"):
        refs.setdefault(code, []).append(("item", iid))
    for gid, code in conn.execute("SELECT id, jurisdiction_code FROM guide"):
        refs.setdefault(code, []).append(("guide", gid))

    def usage_rows():
        for tid, _, scope, *_ in terminals:
            pool = refs.get(scope, []) + refs.get(scope[:9] + "000", [])[:200] + refs.get(county, [])[:200]
            for d in range(days):
                day = (start + timedelta(days=d)).isoformat()
                for kind, ref in rng.sample(pool, k=min(len(pool), 8)):
                    yield (day, tid, kind, ref, rng.randint(1, 6))
    before = conn.execute("SELECT count(*) FROM usage_view").fetchone()[0]
    with assessment_usage.rollup_paused(conn):     # roll-ups built once, not row by row
        conn.executemany("INSERT OR IGNORE INTO usage_view(day, terminal, kind, ref_id, views) "
                         "VALUES (?, ?, ?, ?, ?)", usage_rows())
    usage = conn.execute("SELECT count(*) FROM usage_view").fetchone()[0] - before
    return {"accounts": len(users), "revisions": len(revisions), "audit_rows": len(audit),
            "terminals": len(terminals), "usage_rows": usage}
