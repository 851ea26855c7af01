"""Notifications: routing, de-duplication, retries, digests; e-mail through a real local SMTP
server with STARTTLS; group robots (企业微信, 钉钉, 飞书) through a local HTTP receiver; the
events that raise them; the admin page."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import socket
import ssl
import threading
import urllib.parse
from datetime import date, datetime, timedelta, timezone

import pytest

from content import applications, db, editing, notifications, notify_events, notify_senders
from content.notifications import Message
from kiosk import notify_round

from admin_util import login, user_row

VILLAGE = "340499100201"       # 杏花村
TOWNSHIP = "340499100000"      # 东湖镇
COUNTY = "340499000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A group robot's webhook on loopback: records each JSON body, answers as told."""

    def __init__(self):
        self.bodies: list[tuple[str, dict]] = []
        self.answers: list[tuple[int, dict]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.bodies.append((self.path, json.loads(data)))
                status, answer = receiver.answers.pop(0) if receiver.answers else (200, {"errcode": 0, "code": 0})
                out = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def channel(conn, kind, target, *, user=None, code=None, events="*", digest=0, secret=""):
    return conn.execute(
        "INSERT INTO notify_channel(kind, target, secret, user_id, jurisdiction_code, events, digest) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (kind, target, secret, user, code, events, digest)).lastrowid


def send(conn):
    return notifications.deliver_due(conn, notify_senders.sender_for(notifications.smtp_settings(conn)),
                                     "https://gk.example.gov.cn")


NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)     # 10:00 in China


# ---------------------------------------------------------------- routing and queue

def test_routing_person_group_and_reach(conn):
    editor = user_row(conn, "village-editor")["id"]
    supervisor = user_row(conn, "village-supervisor")["id"]
    admin = user_row(conn, "county-admin")["id"]
    mine = channel(conn, "wecom", "https://x.example/a", user=editor)
    theirs = channel(conn, "wecom", "https://x.example/b", user=supervisor)
    county_admin = channel(conn, "wecom", "https://x.example/c", user=admin)
    township = channel(conn, "wecom", "https://x.example/d", code=TOWNSHIP)
    other_township = channel(conn, "wecom", "https://x.example/e", code="340499001000")
    only_apps = channel(conn, "wecom", "https://x.example/f", code=COUNTY, events="application_due")
    nid = notifications.raise_event(conn, "review_returned", "k1", VILLAGE, Message("t", "b"), [editor], NOW)
    got = {r[0] for r in conn.execute("SELECT channel_id FROM notify_delivery WHERE notification_id = ?", (nid,))}
    assert got == {mine, township}
    nid = notifications.raise_event(conn, "terminal_silent", "k2", VILLAGE, Message("t", "b"), [], NOW)
    got = {r[0] for r in conn.execute("SELECT channel_id FROM notify_delivery WHERE notification_id = ?", (nid,))}
    assert got == {mine, theirs, county_admin, township}       # everyone who can reach 杏花村
    assert other_township not in got and only_apps not in got
    assert notifications.raise_event(conn, "terminal_silent", "k2", VILLAGE, Message("t", "b"), [], NOW) is None


def test_webhook_formats_and_signatures(conn, receiver):
    channel(conn, "wecom", receiver.url + "/wecom?key=k", code=COUNTY)
    channel(conn, "dingtalk", receiver.url + "/ding?access_token=t", code=COUNTY, secret="SECd1ng")
    channel(conn, "feishu", receiver.url + "/feishu/hook", code=COUNTY, secret="fe1shu")
    notifications.raise_event(conn, "terminal_silent", "x", VILLAGE,
                              Message("杏花村查询机已失联", "请检查电源和网络。", "/admin/fleet"), [], NOW)
    assert send(conn) == {"sent": 3, "failed": 0}
    bodies = {path.split("?")[0]: (path, body) for path, body in receiver.bodies}
    wecom = bodies["/wecom"][1]
    assert wecom["msgtype"] == "markdown" and "杏花村查询机已失联" in wecom["markdown"]["content"]
    assert "https://gk.example.gov.cn/admin/fleet" in wecom["markdown"]["content"]
    path, ding = bodies["/ding"]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"] == "杏花村查询机已失联"
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    ts = q["timestamp"][0]
    want = base64.b64encode(hmac.new(b"SECd1ng", f"{ts}\nSECd1ng".encode(), hashlib.sha256).digest()).decode()
    assert q["sign"][0] == want and q["access_token"] == ["t"]
    feishu = bodies["/feishu/hook"][1]
    assert feishu["msg_type"] == "text" and feishu["content"]["text"].startswith("杏花村查询机已失联")
    want = base64.b64encode(hmac.new(f"{feishu['timestamp']}\nfe1shu".encode(), b"", hashlib.sha256).digest()).decode()
    assert feishu["sign"] == want


def test_a_refused_message_is_retried_until_sent(conn, receiver):
    channel(conn, "dingtalk", receiver.url + "/ding", code=COUNTY)
    receiver.answers = [(500, {}), (200, {"errcode": 310000, "errmsg": "sign not match"}), (200, {"errcode": 0})]
    notifications.raise_event(conn, "sync_failing", "x", VILLAGE, Message("同步失败", "…"), [], NOW)
    assert notifications.deliver_due(conn, notify_senders.sender_for({}), now=NOW) == {"sent": 0, "failed": 1}
    row = conn.execute("SELECT * FROM notify_delivery").fetchone()
    assert row["status"] == "pending" and row["attempts"] == 1 and "HTTP 500" in row["last_error"]
    assert notifications.deliver_due(conn, notify_senders.sender_for({}), now=NOW) == {"sent": 0, "failed": 0}
    later = NOW + timedelta(minutes=2)
    assert notifications.deliver_due(conn, notify_senders.sender_for({}), now=later)["failed"] == 1
    assert "sign not match" in conn.execute("SELECT last_error FROM notify_delivery").fetchone()[0]
    assert notifications.deliver_due(conn, notify_senders.sender_for({}), now=later + timedelta(hours=1))["sent"] == 1
    assert conn.execute("SELECT status FROM notify_delivery").fetchone()[0] == "sent"
    assert len(receiver.bodies) == 3


def test_a_daily_digest_goes_once_after_eight(conn, receiver):
    channel(conn, "wecom", receiver.url + "/w", code=COUNTY, digest=1)
    early = datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)      # 06:00 in China
    for i in range(3):
        notifications.raise_event(conn, "terminal_silent", f"t{i}", VILLAGE, Message(f"终端{i}已失联", ""), [], early)
    assert send_at(conn, early) == {"sent": 0, "failed": 0}
    assert send_at(conn, datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)) == {"sent": 1, "failed": 0}
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0][1]["markdown"]["content"]
    assert "共 3 条" in text and all(f"终端{i}已失联" in text for i in range(3))
    assert send_at(conn, datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)) == {"sent": 0, "failed": 0}


def send_at(conn, when):
    return notifications.deliver_due(conn, notify_senders.sender_for({}), now=when)


# ---------------------------------------------------------------- e-mail (real SMTP with STARTTLS)

@pytest.fixture
def smtp_server(tmp_path, monkeypatch):
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2020, 1, 1)).not_valid_after(dt.datetime(2040, 1, 1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    # The county's CA, as the system would trust it.
    monkeypatch.setattr(notify_senders, "tls_context",
                        lambda: ssl.create_default_context(cafile=str(tmp_path / "cert.pem")))
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace"), session.ssl))
            return "250 OK"

    port = free_port()
    controller = aiosmtpd.Controller(Handler(), hostname="localhost", port=port, tls_context=server_ctx,
                                     require_starttls=True)
    controller.start()
    yield port, received
    controller.stop()


def test_email_through_a_real_smtp_server_with_starttls(conn, smtp_server):
    port, received = smtp_server
    for k, v in {"host": "localhost", "port": str(port), "security": "starttls",
                 "sender": "gk@huaichuan.example"}.items():
        db.set_meta(conn, f"notify_smtp_{k}", v)
    admin = user_row(conn, "county-admin")["id"]
    channel(conn, "email", "zhangsan@huaichuan.example", user=admin)
    notifications.raise_event(conn, "application_overdue", "a", VILLAGE,
                              Message("依申请公开 2026-001 已超期", "答复期限已过。", "/admin/applications/x"), [], NOW)
    assert send(conn) == {"sent": 1, "failed": 0}
    (rcpt, content, tls), = received
    assert rcpt == ["zhangsan@huaichuan.example"] and tls is not None
    assert "Subject: =?utf-8?" in content
    import email
    msg = email.message_from_string(content, policy=email.policy.default)
    assert msg["Subject"] == "依申请公开 2026-001 已超期"
    assert "https://gk.example.gov.cn/admin/applications/x" in msg.get_content()


def test_email_without_a_server_is_kept_and_says_why(conn):
    channel(conn, "email", "a@b.example", code=COUNTY)
    notifications.raise_event(conn, "sync_failing", "x", VILLAGE, Message("t", "b"), [], NOW)
    assert send(conn)["failed"] == 1
    row = conn.execute("SELECT status, last_error FROM notify_delivery").fetchone()
    assert row["status"] == "pending" and "尚未设置发信服务器" in row["last_error"]


# ---------------------------------------------------------------- events

def test_review_steps_reach_the_supervisor_and_back_to_the_editor(conn, receiver):
    editor = user_row(conn, "village-editor")
    supervisor = user_row(conn, "village-supervisor")
    channel(conn, "wecom", receiver.url + "/editor", user=editor["id"])
    channel(conn, "wecom", receiver.url + "/supervisor", user=supervisor["id"], events="review_submitted")
    notify_events.from_audit(conn, NOW)                      # the first look only marks where it is
    notice = conn.execute("SELECT id FROM notice WHERE jurisdiction_code = ? AND status = 'published' "
                          "LIMIT 1", (VILLAGE,)).fetchone()[0]
    data = editing.working(conn, editing.entity("notice"), notice)["data"]
    editing.save_draft(conn, editor, "notice", notice, {**data, "body": data["body"] + "（补充）"})
    editing.submit(conn, editor, "notice", notice)
    assert notify_events.from_audit(conn, NOW) == 1
    send(conn)
    assert [p for p, _ in receiver.bodies] == ["/supervisor"]
    assert "待审核" in receiver.bodies[0][1]["markdown"]["content"]
    editing.return_for_changes(conn, supervisor, "notice", notice, "金额请核对")
    editing.submit(conn, editor, "notice", notice)
    editing.approve(conn, supervisor, "notice", notice)
    assert notify_events.from_audit(conn, NOW) == 3
    send(conn)
    paths = [p for p, _ in receiver.bodies]
    assert paths == ["/supervisor", "/editor", "/supervisor", "/editor"]
    assert "已退回" in receiver.bodies[1][1]["markdown"]["content"]
    assert "已通过" in receiver.bodies[3][1]["markdown"]["content"]
    assert notify_events.from_audit(conn, NOW) == 0


def test_county_group_learns_of_a_dark_terminal_and_a_due_application(conn, receiver, app):
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY)
    last = (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact, label) VALUES (?, 'k', ?, ?, ?)",
                 ("a" * 64, VILLAGE, last, "村委会一楼查询机"))
    data, errors = applications.validate({
        "applicant_type": "自然人", "name": "王秀英", "id_type": "居民身份证",
        "id_number": "11010519491231002X", "phone": "13812345678", "address": "", "email": "",
        "title": "2025年杏花村低保名单", "doc_number": "", "description": "",
        "provision_form": "纸质", "delivery": "自行领取"})
    assert not errors
    made = applications.create(conn, data, VILLAGE, date(2026, 11, 2))
    today = date.fromisoformat(made["due_on"])                 # its last day
    due = applications.listing(conn, None, today, "due_soon")
    assert [a["uuid"] for a in due] == [made["uuid"]]
    raised = notify_events.terminals(conn, NOW) + notify_events.applications_due(conn, today, NOW)
    assert raised >= 2
    assert notify_events.terminals(conn, NOW) == 0            # the same silence is told once
    send(conn)
    texts = [b["markdown"]["content"] for _, b in receiver.bodies]
    assert any("村委会一楼查询机已失联" in t for t in texts)
    assert any(due[0]["receipt_no"] in t and "即将到期" in t for t in texts)
    for t in texts:                                        # no applicant's personal data
        for a in due:
            assert a["name"] not in t and (not a.get("phone") or a["phone"] not in t)


def test_emergencies_are_told(conn, receiver):
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY, events="emergency_published emergency_ended")
    notify_events.from_audit(conn, NOW)
    from content import emergency
    admin = user_row(conn, "county-admin")
    nid = emergency.set_emergency(conn, admin, {"title": "停水通知", "body": "", "subject_code": VILLAGE,
                                                "expires_on": date.today().isoformat()}, date.today())
    emergency.clear(conn, admin, nid)
    assert notify_events.from_audit(conn, NOW) == 2
    send(conn)
    texts = [b["markdown"]["content"] for _, b in receiver.bodies]
    assert "紧急通知已发布：停水通知" in texts[0] and "紧急通知已解除：停水通知" in texts[1]


def test_the_round_scans_and_sends(app, conn, receiver):
    channel(conn, "wecom", receiver.url + "/county", code=COUNTY, events="terminal_silent")
    conn.execute("INSERT INTO sync_terminal(id, public_key, scope, last_contact) VALUES (?, 'k', ?, ?)",
                 ("b" * 64, VILLAGE, "2026-01-01T00:00:00Z"))
    counts = notify_round.notify_once(app.config["DATABASE"])
    assert counts["sent"] == 1 and len(receiver.bodies) == 1


# ---------------------------------------------------------------- the admin page

def test_admin_adds_tests_and_removes_a_channel(client, conn, receiver):
    tok = login(client, "township-editor")
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert "消息提醒" in page and "东湖镇及下级的工作群" in page and "发信服务器" not in page
    bad = client.post("/admin/notifications/channels", data={"csrf_token": tok, "kind": "wecom",
                                                             "target": "http://example.com/hook", "scope": "me"})
    assert bad.status_code == 400 and "https://" in bad.get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM notify_channel").fetchone()[0] == 0
    denied = client.post("/admin/notifications/channels", data={
        "csrf_token": tok, "kind": "wecom", "target": receiver.url + "/x", "scope": "340499001000"})
    assert denied.status_code == 400 and "不能为这个区域" in denied.get_data(as_text=True)
    r = client.post("/admin/notifications/channels", data={
        "csrf_token": tok, "kind": "wecom", "target": receiver.url + "/town", "scope": TOWNSHIP,
        "label": "东湖镇工作群", "events": ["terminal_silent", "application_due"]})
    assert r.status_code == 302
    row = conn.execute("SELECT * FROM notify_channel").fetchone()
    assert row["jurisdiction_code"] == TOWNSHIP and row["events"] == "terminal_silent application_due"
    r = client.post(f"/admin/notifications/channels/{row['id']}/test", data={"csrf_token": tok})
    assert r.status_code == 302 and len(receiver.bodies) == 1
    assert "测试消息" in receiver.bodies[0][1]["markdown"]["content"]
    assert "测试消息已发出" in client.get("/admin/notifications").get_data(as_text=True)
    receiver.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    client.post(f"/admin/notifications/channels/{row['id']}/test", data={"csrf_token": tok})
    assert "invalid webhook url" in client.get("/admin/notifications").get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'notify_channel_add'").fetchone()[0] == 1
    client.post(f"/admin/notifications/channels/{row['id']}/remove", data={"csrf_token": tok})
    assert conn.execute("SELECT active FROM notify_channel").fetchone()[0] == 0


def test_others_cannot_see_or_use_a_channel(client, conn, receiver):
    admin = user_row(conn, "county-admin")["id"]
    cid = channel(conn, "wecom", receiver.url + "/mine", user=admin)
    tok = login(client, "village-editor")
    assert receiver.url not in client.get("/admin/notifications").get_data(as_text=True)
    assert client.post(f"/admin/notifications/channels/{cid}/test", data={"csrf_token": tok}).status_code == 404
    assert client.post("/admin/notifications/smtp", data={"csrf_token": tok, "host": "x"}).status_code == 403
    assert receiver.bodies == []


def test_county_admin_sets_the_mail_server(client, conn):
    tok = login(client, "county-admin")
    r = client.post("/admin/notifications/smtp", data={"csrf_token": tok, "host": "smtp.example.gov.cn",
                                                        "port": "587", "security": "starttls", "user": "gk",
                                                        "password": "s3cret", "sender": "gk@example.gov.cn"})
    assert r.status_code == 302
    assert notifications.smtp_settings(conn)["password"] == "s3cret"
    client.post("/admin/notifications/smtp", data={"csrf_token": tok, "host": "smtp.example.gov.cn",
                                                   "port": "587", "security": "starttls", "user": "gk",
                                                   "password": "", "sender": "gk@example.gov.cn"})
    assert notifications.smtp_settings(conn)["password"] == "s3cret"      # blank keeps it
    audit = conn.execute("SELECT after FROM audit_log WHERE action = 'notify_smtp'").fetchall()
    assert all("s3cret" not in a[0] for a in audit)
    bad = client.post("/admin/notifications/smtp", data={"csrf_token": tok, "port": "99999", "security": "starttls"})
    assert bad.status_code == 302 and "端口" in client.get("/admin/notifications").get_data(as_text=True)


def test_december_without_next_years_holidays_is_told_once(conn):
    from content import holidays
    now = datetime(2026, 12, 3, 2, tzinfo=timezone.utc)
    assert holidays.year_status(conn, 2027) == "missing"
    assert notify_events.holidays_missing(conn, date(2026, 11, 30), now) == 0     # not before December
    assert notify_events.holidays_missing(conn, date(2026, 12, 3), now) == 1
    assert notify_events.holidays_missing(conn, date(2026, 12, 4), now) == 0
    assert conn.execute("SELECT title FROM notification WHERE event = 'holidays_missing'").fetchone()[0] == \
        "2027年节假日安排尚未录入"


def test_the_round_counts_deadlines_on_the_entered_calendar(app, conn):
    """Outside a request the notification round still uses the county's own holiday calendar."""
    from content import holidays, timelimits
    holidays.import_schedule(conn, holidays.rows_from_text("2027-02-05..2027-02-11, 休, 春节"), source="test")
    seen = {}
    real = notify_events.scan

    def spy(c, today, now=None):
        seen["workday"] = timelimits.is_workday(date(2027, 2, 8))   # a Monday in the holiday
        return real(c, today, now)
    import pytest as _p
    mp = _p.MonkeyPatch()
    mp.setattr(notify_events, "scan", spy)
    try:
        notify_round.notify_once(app.config["DATABASE"])
    finally:
        mp.undo()
    assert seen["workday"] is False
