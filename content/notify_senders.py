"""How a notification leaves the hub: e-mail (SMTP, STARTTLS or TLS) or a group robot's
webhook in its documented JSON format (企业微信, 钉钉, 飞书). Each sender raises
``SendError`` (in Chinese, for the admin page) when the message was not accepted."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

TIMEOUT = 15
KINDS = {"email": "电子邮件", "wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人", "feishu": "飞书群机器人"}


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's trusted authorities (a county CA added there)."""
    return ssl.create_default_context()


class SendError(Exception):
    """The message was not accepted; the text says why."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(kind: str, target: str) -> str | None:
    """A Chinese message when the address cannot be used for that kind, else None."""
    target = (target or "").strip()
    if kind not in KINDS:
        return "请选择发送方式"
    if kind == "email":
        if len(target) > 254 or "@" not in target or target.startswith("@") or target.endswith("@") \
                or any(c.isspace() for c in target):
            return "电子邮件地址格式不正确"
        return None
    parts = urllib.parse.urlsplit(target)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return None
    return "机器人地址应为 https:// 开头的完整网址（在群设置的机器人详情中复制）"


# ---------------------------------------------------------------- webhooks

def wecom_payload(title: str, text: str) -> dict:
    """企业微信群机器人: markdown message."""
    return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}


def dingtalk_payload(title: str, text: str) -> dict:
    """钉钉自定义机器人: markdown message (the title shows in the chat list)."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{text}"}}


def dingtalk_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """钉钉 加签: timestamp (ms) and base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret."""
    if not secret:
        return url
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def feishu_payload(title: str, text: str, secret: str = "", now_s: int | None = None) -> dict:
    """飞书自定义机器人: text message; 签名校验 with HMAC-SHA256 keyed by "timestamp\\nsecret" over
    an empty message."""
    body = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
    if secret:
        ts = str(now_s if now_s is not None else int(time.time()))
        digest = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
        body.update(timestamp=ts, sign=base64.b64encode(digest).decode())
    return body


def _post_json(url: str, payload: dict) -> dict:
    data = json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            raw = resp.read(65536)
    except urllib.error.HTTPError as e:
        raise SendError(f"机器人地址回答 HTTP {e.code}") from e
    except (OSError, ValueError) as e:
        raise SendError(f"无法连接机器人地址：{e}") from e
    try:
        answer = json.loads(raw or b"{}")
    except ValueError as e:
        raise SendError("机器人地址的回答不是 JSON") from e
    return answer if isinstance(answer, dict) else {}


def _check_answer(answer: dict, *codes: str) -> None:
    for key in codes:
        if key in answer:
            if answer[key] not in (0, "0"):
                message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
                raise SendError(f"机器人拒绝了消息（{key}={answer[key]}）：{message}")
            return


def send_webhook(kind: str, url: str, secret: str, title: str, text: str) -> None:
    if kind == "wecom":
        _check_answer(_post_json(url, wecom_payload(title, text)), "errcode")
    elif kind == "dingtalk":
        _check_answer(_post_json(dingtalk_url(url, secret), dingtalk_payload(title, text)), "errcode")
    elif kind == "feishu":
        _check_answer(_post_json(url, feishu_payload(title, text, secret)), "code", "StatusCode")
    else:
        raise SendError("未知的发送方式")


# ---------------------------------------------------------------- e-mail

def send_email(smtp: dict, to: str, title: str, text: str) -> None:
    """One plain-text message through the county's SMTP server (STARTTLS by default)."""
    host = smtp.get("host") or ""
    if not host:
        raise SendError("尚未设置发信服务器（SMTP），请县级管理员在“消息提醒”页填写")
    security = smtp.get("security") or "starttls"
    port = int(smtp.get("port") or (465 if security == "ssl" else 587))
    msg = EmailMessage()
    sender = smtp.get("sender") or smtp.get("user") or f"kiosk@{host}"
    msg["From"] = formataddr(("政务公开平台", sender))
    msg["To"] = to
    msg["Subject"] = title
    msg["Message-ID"] = make_msgid(domain="kiosk.local")
    msg.set_content(text or title)
    context = tls_context()
    try:
        if security == "ssl":
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with server:
            if security == "starttls":
                server.starttls(context=context)
            if smtp.get("user"):
                server.login(smtp["user"], smtp.get("password") or "")
            server.send_message(msg)
    except smtplib.SMTPException as e:
        raise SendError(f"发信服务器拒绝：{e}") from e
    except (OSError, ssl.SSLError) as e:
        raise SendError(f"无法连接发信服务器 {host}:{port}：{e}") from e


def sender_for(smtp_settings):
    """A ``send(channel, message)`` for content.notifications.deliver_due."""
    def send(channel, message) -> None:
        text = message.body + (f"\n{message.link}" if message.link else "")
        if channel["kind"] == "email":
            send_email(smtp_settings() if callable(smtp_settings) else smtp_settings,
                       channel["target"], message.title, text)
        else:
            send_webhook(channel["kind"], channel["target"], channel["secret"], message.title, text)
    return send
