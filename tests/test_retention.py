"""content.retention at the hub: personal details of long-closed applications and old
sign-in records go after their configured periods; statistics stay."""
from __future__ import annotations

import json
from datetime import date

import pytest

from content import applications, editing, retention
from kiosk import config
from test_citizen import GOOD

TODAY = date(2026, 12, 1)


def _application(conn, received: str, replied: str | None) -> str:
    row = applications.create(conn, dict(GOOD), "340499100201", date.fromisoformat(received))
    if replied:
        conn.execute("UPDATE application SET stage = '归档', outcome = '予以公开', replied_on = ?, "
                     "archived_on = ? WHERE uuid = ?", (replied, replied, row["uuid"]))
    return row["uuid"]


def test_closed_applications_lose_personal_details_after_the_period(conn):
    old = _application(conn, "2022-03-01", "2022-03-20")
    recent = _application(conn, "2026-10-01", "2026-10-20")
    still_open = _application(conn, "2021-01-04", None)
    done = retention.purge_hub(conn, TODAY, application_days=3 * 366)
    assert done["applications"] == 1
    o = applications.get(conn, old)
    assert (o["name"], o["id_number"], o["phone"], o["title"]) == ("", "", "", "")
    assert (o["stage"], o["outcome"], o["received_on"], o["applicant_type"]) == \
        ("归档", "予以公开", "2022-03-01", GOOD["applicant_type"])
    for kept in (recent, still_open):
        assert applications.get(conn, kept)["id_number"] == GOOD["id_number"]
    assert retention.purge_hub(conn, TODAY)["applications"] == 0        # once only
    # A shorter period reaches the recent one too.
    assert retention.purge_hub(conn, TODAY, application_days=30)["applications"] == 1


def test_letters_and_scans_go_with_the_personal_details(conn):
    old = _application(conn, "2022-03-01", "2022-03-20")
    recent = _application(conn, "2026-10-01", "2026-10-20")
    conn.execute("UPDATE application SET organ_code = '340499100000', delivered_on = '2022-03-20', "
                 "delivery_method = '邮寄', delivery_detail = 'SF123456789' WHERE uuid = ?", (old,))
    for uid in (old, recent):
        conn.execute("INSERT INTO application_letter(application_uuid, kind, letter_no, issued_on, html) "
                     "VALUES (?, 'reply', ?, '2022-03-20', '<p>张三：</p>')", (uid, uid))
        conn.execute("INSERT INTO application_document(application_uuid, sha256, mime, size, name) "
                     "VALUES (?, 'ab', 'application/pdf', 1, 'a.pdf')", (uid,))
    conn.commit()
    retention.purge_hub(conn, TODAY, application_days=3 * 366)
    left = {r[0] for r in conn.execute("SELECT application_uuid FROM application_letter "
                                       "UNION SELECT application_uuid FROM application_document")}
    assert left == {recent}
    o = applications.get(conn, old)
    assert (o["organ_code"], o["delivered_on"], o["delivery_method"], o["delivery_detail"]) == \
        ("340499100000", "2022-03-20", "邮寄", "")                      # the yearly tables still add up


def test_sign_in_records_expire_other_audit_entries_stay(conn):
    with editing.transaction(conn):
        for at, action in (("2026-01-01T08:00:00Z", "login"), ("2026-01-01T08:01:00Z", "login_failed"),
                           ("2026-01-01T08:02:00Z", "approve"), ("2026-11-30T08:00:00Z", "login")):
            conn.execute("INSERT INTO audit_log(at, username, action, entity, entity_id, remote) "
                         "VALUES (?, 'x', ?, 'user', '1', '10.0.0.9')", (at, action))
    before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    done = retention.purge_hub(conn, TODAY, access_log_days=180)
    assert done["access_logs"] == 2
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == before - 2
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'approve' "
                        "AND at LIKE '2026-01-01%'").fetchone()[0] == 1


@pytest.mark.parametrize("key,value,ok", [("application_retention_days", 1100, True),
                                          ("application_retention_days", 5, False),
                                          ("access_log_retention_days", "180", False),
                                          ("access_log_retention_days", 90, True)])
def test_retention_settings_are_checked(key, value, ok):
    if ok:
        assert config.check_settings({key.upper(): value}, "kiosk.toml")
    else:
        with pytest.raises(ValueError, match=key):
            config.check_settings({key.upper(): value}, "kiosk.toml")
    assert key.upper() in config.DEFAULTS


def test_hub_timer_applies_the_configured_periods(data_dir, conn):
    from sync import service
    uuid = _application(conn, "2024-01-02", "2024-01-20")
    service.purge_expired(data_dir, {"APPLICATION_RETENTION_DAYS": 5000})
    assert applications.get(conn, uuid)["name"] == GOOD["name"]         # within 5000 days
    service.purge_expired(data_dir, {"APPLICATION_RETENTION_DAYS": 30})
    assert applications.get(conn, uuid)["name"] == ""


def test_callback_phones_go_after_the_period_once_answered(conn):
    """content.resident_questions: a resident's callback number is kept as long as an
    applicant's details, counted from the answer; open records keep it."""
    from content import resident_questions as rq
    t = rq.target(conn, "village", "340499100201")
    clock = rq.DEFAULT_CLOCKS["village_query"]
    editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
    old = rq.create(conn, t, "village_query", {"body": "问", "phone": "13955501234"}, "340499100201",
                    date(2022, 3, 1), clock)
    rq.answer(conn, old["uuid"], editor, "答", "private", date(2022, 3, 5))
    waiting = rq.create(conn, t, "village_query", {"body": "问", "phone": "13955505678"}, "340499100201",
                        date(2022, 3, 1), clock)
    assert retention.purge_hub(conn, TODAY, application_days=3 * 366)["callback_phones"] == 1
    assert rq.get(conn, old["uuid"])["phone"] == ""
    assert rq.get(conn, waiting["uuid"])["phone"] == "13955505678"


def test_scanned_reply_files_go_unless_something_else_shows_them(data_dir, conn):
    """The scan's original and its page pictures show the applicant's name and address: after
    the period they leave the disk too; a file a notice also uses stays."""
    from pictures_util import leaflet_pdf, leaflet_png

    from content import application_letters, uploads
    old = _application(conn, "2022-03-01", "2022-03-20")
    other = _application(conn, "2022-03-02", "2022-03-21")
    pdf = application_letters.attach(conn, data_dir, old, "答复书.pdf", leaflet_pdf(2))
    png = application_letters.attach(conn, data_dir, old, "回证.png", leaflet_png())
    files = [pdf["sha256"], *json.loads(pdf["pictures"]), png["sha256"], *json.loads(png["pictures"])]
    assert len(json.loads(pdf["pictures"])) == 2
    assert all(uploads.blob_path(data_dir, sha).exists() for sha in files)
    # The same picture is also a notice's attachment: that file must stay.
    notice = conn.execute("SELECT id FROM notice ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute("INSERT INTO attachment(notice_id, name, sha256, mime, size) VALUES (?, 'p.png', ?, 'image/png', 1)",
                 (notice, png["sha256"]))
    conn.commit()
    done = retention.purge_hub(conn, TODAY, application_days=3 * 366, data_dir=data_dir)
    assert done["applications"] == 2                       # ``other`` had no scan: nothing of it to delete
    assert applications.get(conn, other)["name"] == ""
    shared = {png["sha256"]}
    for sha in files:
        assert uploads.blob_path(data_dir, sha).exists() == (sha in shared), sha
    assert done["scan_files"] == len(set(files) - shared)
