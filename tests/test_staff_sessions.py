"""Sessions end on the server: a cookie copied before logout, a password change, a disabled
account or "sign out everywhere" no longer opens the admin (content.staff_sessions)."""
from __future__ import annotations

import pytest

from admin_util import login
from content import users


def _cookie(client, app) -> str:
    return client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session")).value


def _with_cookie(app, value: str):
    thief = app.test_client()
    thief.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), value)
    return thief


def _signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_cookie_copied_before_logout_stops_working(app):
    c = app.test_client()
    tok = login(c, "village-editor")
    copied = _cookie(c, app)
    assert _signed_in(_with_cookie(app, copied))
    assert c.post("/admin/logout", data={"csrf_token": tok}).status_code == 302
    assert not _signed_in(_with_cookie(app, copied))
    # The same account signs in again and works; the old copy stays dead.
    login(c, "village-editor")
    assert _signed_in(c) and not _signed_in(_with_cookie(app, copied))


def test_password_change_ends_every_copy(app, conn):
    c = app.test_client()
    login(c, "village-editor")
    copied = _cookie(c, app)
    users.set_password(conn, "village-editor", "A-much-better-secret-42")
    assert not _signed_in(c) and not _signed_in(_with_cookie(app, copied))
    # Even a session forged with the new password's fingerprint has no open row.
    assert conn.execute("SELECT count(*) FROM staff_session s JOIN user u ON u.id = s.user_id "
                        "WHERE u.username = 'village-editor' AND ended_at IS NULL").fetchone()[0] == 0


def test_disabling_the_account_ends_its_sessions_for_good(app, conn):
    c = app.test_client()
    login(c, "village-editor")
    copied = _cookie(c, app)
    conn.execute("UPDATE user SET active = 0 WHERE username = 'village-editor'")
    assert not _signed_in(_with_cookie(app, copied))
    conn.execute("UPDATE user SET active = 1 WHERE username = 'village-editor'")
    assert not _signed_in(_with_cookie(app, copied)), "re-enabling must not revive old sessions"
    ended = conn.execute("SELECT ended_why FROM staff_session s JOIN user u ON u.id = s.user_id "
                         "WHERE u.username = 'village-editor'").fetchall()
    assert [r[0] for r in ended] == ["disabled"]


def test_sign_out_everywhere(app, conn):
    phone, hall = app.test_client(), app.test_client()
    login(phone, "village-editor")
    tok = login(hall, "village-editor")
    other = app.test_client()
    login(other, "village-supervisor")
    assert "退出所有设备" in hall.get("/admin/").get_data(as_text=True)
    r = hall.post("/admin/sessions/end-all", data={"csrf_token": tok})
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert not _signed_in(phone) and not _signed_in(hall)
    assert _signed_in(other), "another account's sessions are untouched"
    row = conn.execute("SELECT after FROM audit_log WHERE action = 'logout_everywhere'").fetchone()
    assert row is not None and '"sessions": 2' in row[0]


def test_session_without_server_row_is_refused(app, conn):
    """A cookie signed with the instance's key but naming no open session (a forged or
    pre-upgrade cookie) does not sign anyone in."""
    from content.auth import password_fingerprint
    user = conn.execute("SELECT * FROM user WHERE username = 'county-admin'").fetchone()
    c = app.test_client()
    with c.session_transaction() as s:
        s["user_id"], s["pw"], s["sid"] = user["id"], password_fingerprint(user), "made-up"
    assert not _signed_in(c)


@pytest.mark.parametrize("path", ["/admin/sessions/end-all"])
def test_end_all_needs_csrf_and_a_session(app, path):
    c = app.test_client()
    assert c.post(path).status_code in (302, 400)
    login(c, "village-editor")
    assert c.post(path).status_code == 400          # no CSRF token
    assert _signed_in(c)
