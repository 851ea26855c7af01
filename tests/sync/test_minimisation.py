"""A village terminal holds no applicant's personal data once the hub has the application:
not in its tables, not in the outbox, not in free pages, the WAL or any file of its data folder
(content.retention, sync.upstream); the resident's status lookup keeps working."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from content import applications, outbox
from kiosk import create_app
from sync import terminal

from conftest import tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_citizen import GOOD, csrf  # noqa: E402

# Distinctive values, so a hit in the raw bytes can only be this applicant.
APPLICANT = {**GOOD, "name": "欧阳翠花", "id_number": "340422195603175020", "phone": "13955501234",
             "address": "杏花村槐树组17号", "email": "cuihua.ouyang@example.cn",
             "description": "请公开本人所在组2025年低保评议记录"}
SECRETS = [APPLICANT[k] for k in ("name", "id_number", "phone", "address", "email", "description")]


def _hits(folder: Path) -> list[tuple[str, str]]:
    """(file, secret) for every secret found in the raw bytes of any file under ``folder``
    (UTF-8 as SQLite stores text, UTF-16 and GB18030 as other software might)."""
    needles = {}
    for s in SECRETS:
        for enc in ("utf-8", "utf-16-le", "gb18030"):
            needles[s.encode(enc)] = s
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [(str(path.relative_to(folder)), s) for b, s in needles.items() if b in data]
    return found


def _apply(term: Path) -> str:
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    r = kiosk.post("/apply", data={**APPLICANT, "csrf_token": csrf(kiosk, "/apply")})
    assert r.status_code == 303, r.get_data(as_text=True)[:1000]
    return re.search(r"YSQ-\d{8}-[A-Z]{3}-\d{4}",
                     kiosk.get("/apply/receipt").get_data(as_text=True)).group(0)


def _lookup(term: Path, receipt: str, tail: str) -> str:
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    r = kiosk.post("/apply/status", data={"receipt": receipt, "tail": tail,
                                          "csrf_token": csrf(kiosk, "/apply/status")})
    return r.get_data(as_text=True)


def test_village_terminal_keeps_no_personal_data_after_sync(hub, term):
    assert terminal.sync_once(term).ok
    receipt = _apply(term)
    before = _hits(term)
    assert {s for _, s in before} >= {APPLICANT["name"], APPLICANT["id_number"], APPLICANT["phone"]}, \
        "the scan must see the data while it is there"

    report = terminal.sync_once(term)
    assert report.ok, report.errors
    hc = hub.conn()
    try:
        row = applications.get_by_receipt(hc, receipt)
        assert (row["name"], row["id_number"], row["phone"]) == \
            (APPLICANT["name"], APPLICANT["id_number"], APPLICANT["phone"])
    finally:
        hc.close()

    conn = tconn(term)
    try:
        kept = applications.get_by_receipt(conn, receipt)
        assert kept["stage"] == "登记" and kept["received_on"] and kept["due_on"]
        assert kept["scrubbed_at"] and kept["lookup_hash"]
        assert kept["name"] == kept["id_number"] == kept["phone"] == kept["description"] == ""
        assert [r[0] for r in conn.execute("SELECT payload FROM outbox WHERE kind = 'application'")] == ["{}"]
        assert outbox.pending_count(conn) == 0
        secure = conn.execute("PRAGMA secure_delete").fetchone()[0]
    finally:
        conn.close()
    # The raw bytes: database, -wal, -shm and every other file of the data folder.
    assert _hits(term) == []
    assert secure == 1

    # The resident's lookup still works with the phone's last four digits, and only with them.
    page = _lookup(term, receipt, APPLICANT["phone"][-4:])
    assert receipt in page and "已登记" in page
    assert "已登记" not in _lookup(term, receipt, "0000")
    assert _hits(term) == []


def test_refused_records_keep_their_data_until_resolved(hub, term):
    """Only what the hub holds is scrubbed: a record still waiting keeps everything."""
    assert terminal.sync_once(term).ok
    hub.server.stop()
    receipt = _apply(term)
    assert not terminal.sync_once(term, do_pull=False).ok      # hub unreachable
    conn = tconn(term)
    try:
        row = applications.get_by_receipt(conn, receipt)
        assert row["name"] == APPLICANT["name"] and row["scrubbed_at"] is None
    finally:
        conn.close()
    hub.server.start()


def test_records_sent_before_the_rule_are_scrubbed_at_the_next_push(hub, term):
    """A terminal upgraded with applications already at the hub scrubs them at its next push."""
    assert terminal.sync_once(term).ok
    receipt = _apply(term)
    assert terminal.sync_once(term).ok
    conn = tconn(term)
    try:
        # As an older version left it: sent, but everything still there.
        uuid = applications.get_by_receipt(conn, receipt)["uuid"]
        conn.execute("UPDATE application SET name = ?, phone = ?, scrubbed_at = NULL, lookup_hash = '' "
                     "WHERE uuid = ?", (APPLICANT["name"], APPLICANT["phone"], uuid))
        conn.execute("UPDATE outbox SET payload = ? WHERE uuid = ?",
                     ('{"name": "%s"}' % APPLICANT["name"], uuid))
    finally:
        conn.close()
    assert _hits(term)
    assert terminal.sync_once(term, do_pull=False).ok
    assert _hits(term) == []
    assert receipt in _lookup(term, receipt, APPLICANT["phone"][-4:])


# ---------------------------------------------------------------- objections and questions

QUESTION = {"body": "欧阳翠花家的补贴面积登记错了，请核实", "phone": "13955507788"}


def _object(term: Path) -> str:
    """A resident objects to a 杏花村 notice in its 公示期 at the terminal; returns the receipt."""
    from datetime import date  # noqa: PLC0415
    conn = tconn(term)
    try:
        nid = conn.execute("SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = "
                           "'340499100201' AND period_start <= ?1 AND period_end >= ?1 ORDER BY id",
                           (date.today().isoformat(),)).fetchone()[0]
    finally:
        conn.close()
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    r = kiosk.post(f"/object/{nid}", data={**QUESTION, "csrf_token": csrf(kiosk, f"/object/{nid}")})
    assert r.status_code == 303, r.get_data(as_text=True)[:1000]
    return re.search(r"WT-\d{8}-[A-Z2-9]{6}", kiosk.get("/ask/receipt").get_data(as_text=True)).group(0)


def test_terminal_keeps_no_question_or_callback_phone_after_sync(hub, term, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "SECRETS", [QUESTION["body"], QUESTION["phone"], "欧阳翠花"])
    assert terminal.sync_once(term).ok
    receipt = _object(term)
    assert {s for _, s in _hits(term)} >= {QUESTION["phone"], "欧阳翠花"}, "the scan sees them while there"
    assert terminal.sync_once(term).ok
    hc = hub.conn()
    try:
        row = hc.execute("SELECT * FROM resident_question WHERE receipt_no = ?", (receipt,)).fetchone()
        assert row["phone"] == QUESTION["phone"] and row["jurisdiction_code"] == "340499100201"
        inbox = hc.execute("SELECT payload FROM sync_inbox WHERE kind = 'resident_question'").fetchone()[0]
        assert QUESTION["phone"] not in inbox and "139****7788" in inbox
    finally:
        hc.close()
    conn = tconn(term)
    try:
        kept = conn.execute("SELECT * FROM resident_question WHERE receipt_no = ?", (receipt,)).fetchone()
        assert kept["body"] == kept["phone"] == "" and kept["scrubbed_at"]
        assert [r[0] for r in conn.execute("SELECT payload FROM outbox WHERE kind = 'resident_question'")] == ["{}"]
    finally:
        conn.close()
    # Database, -wal, -shm and every other file of the data folder.
    assert _hits(term) == []
    kiosk = create_app({"DATA_DIR": str(term), "TESTING": True}).test_client()
    page = kiosk.post("/ask/status", data={"receipt": receipt, "tail": "7788",
                                           "csrf_token": csrf(kiosk, "/ask/status")}).get_data(as_text=True)
    assert "办理中" in page
    assert _hits(term) == []
def test_letters_and_organ_stay_at_the_hub(hub, term):
    """The organ chosen at a village kiosk travels up; the letters staff issue at the hub, with
    the applicant's name and address, never reach a published bundle or the terminal."""
    from datetime import date

    from content import application_letters, application_organs
    assert terminal.sync_once(term).ok
    receipt = _apply(term)
    assert terminal.sync_once(term).ok
    hc = hub.conn()
    try:
        row = applications.get_by_receipt(hc, receipt)
        assert row["organ_code"] == "340499100000"             # 杏花村's kiosk: 东湖镇人民政府 by default
        today = date.today()
        application_organs.transfer(hc, row["uuid"], "340499000000/县民政局", "低保评议由县民政局掌握", today)
        for action, params in (("accept", {}), ("process", {}), ("reply", {"outcome": "部分公开", "reason": "涉及他人隐私"}),
                               ("deliver", {"method": "邮寄", "detail": "SF1234567890"})):
            applications.perform(hc, row["uuid"], action, today, **params)
        with hub.app.test_request_context():
            letter = application_letters.issue(hc, row["uuid"], "reply", today)
        assert APPLICANT["name"] in letter["html"] and APPLICANT["address"] in letter["html"]
    finally:
        hc.close()
    hub.publish()
    assert terminal.sync_once(term).ok
    assert _hits(hub.data_dir / "published") == []
    assert _hits(term) == []
    assert "已答复" in _lookup(term, receipt, APPLICANT["phone"][-4:])
