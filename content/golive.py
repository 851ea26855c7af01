"""The go-live checklist (上线准备) for a county administrator: what a county still lacks.

Each check reads the tables directly (and, for the key and the address, the data folder and
the settings) and says what is missing, with the page or command that fixes it. Some pages
it points at (/admin/users, /admin/divisions) belong to the county set-up pages.
"""
from __future__ import annotations

import ipaddress
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from . import holidays
from .db import get_meta

OK, TODO, WARN, NA = "ok", "todo", "warn", "na"
STATE_NAMES = {OK: "已完成", TODO: "未完成", WARN: "需要注意", NA: "不适用"}
SILENT_DAYS = 3                  # a terminal not heard from for this long needs a visit
SHOW = 12                        # names listed per line before "等 N 个"

# Where the settings that live outside the database are explained (anchors on the page).
PUBLIC_URL_HELP = "#fix-public-url"
TLS_HELP = "#fix-tls"
KEY_HELP = "#fix-key"


@dataclass
class Check:
    key: str
    title: str
    state: str
    detail: str
    link: str
    link_text: str
    rows: list = field(default_factory=list)      # a small table, when the line has one
    columns: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.state in (OK, NA)


def _names(names: list[str]) -> str:
    shown = "、".join(names[:SHOW])
    return shown + (f" 等 {len(names)} 个" if len(names) > SHOW else "")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}


def _parse_utc(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------- the checks

def divisions(conn) -> Check:
    county = conn.execute("SELECT name FROM jurisdiction WHERE level = 'county' LIMIT 1").fetchone()
    towns, villages = (conn.execute(
        "SELECT count(*) FROM jurisdiction WHERE level = ?", (lv,)).fetchone()[0]
        for lv in ("township", "village"))
    if county is None:
        return Check("divisions", "行政区划已导入", TODO, "还没有县（请先运行 kiosk init --county）",
                     "/admin/divisions", "导入行政区划")
    ok = towns > 0 and villages > 0
    return Check("divisions", "行政区划已导入", OK if ok else TODO,
                 f"{county['name']}：乡镇（街道）{towns} 个，村（社区）{villages} 个"
                 + ("" if ok else "；请导入统计局的区划代码文件"),
                 "/admin/divisions", "导入行政区划")


def domains_without_items(conn) -> Check:
    hidden = "AND coalesce(d.hidden, 0) = 0" if "hidden" in _columns(conn, "domain") else ""
    empty = [r[0] for r in conn.execute(
        f"""SELECT d.name FROM domain d WHERE NOT EXISTS (
               SELECT 1 FROM catalogue_item i WHERE i.domain_id = d.id AND i.status != 'withdrawn')
            {hidden} ORDER BY d.sort, d.id""")]
    total = conn.execute(f"SELECT count(*) FROM domain d WHERE 1 {hidden}").fetchone()[0]
    if total == 0:
        return Check("domains", "各领域都有目录事项", TODO, "还没有任何领域", "/admin/import", "导入目录")
    return Check("domains", "各领域都有目录事项", OK if not empty else TODO,
                 f"{total} 个领域都已有目录事项" if not empty else
                 f"{len(empty)} / {total} 个领域还没有目录事项：{_names(empty)}",
                 "/admin/import", "导入公开事项目录")


def village_staff(conn) -> Check:
    rows = conn.execute(
        """SELECT v.name, t.name AS township,
                  EXISTS (SELECT 1 FROM user u WHERE u.jurisdiction_code = v.code AND u.active = 1
                          AND u.role = 'village_editor') AS editor,
                  EXISTS (SELECT 1 FROM user u WHERE u.jurisdiction_code = v.code AND u.active = 1
                          AND u.role = 'village_supervisor') AS supervisor
           FROM jurisdiction v LEFT JOIN jurisdiction t ON t.code = v.parent_code
           WHERE v.level = 'village' ORDER BY t.sort, t.code, v.sort, v.code""").fetchall()
    no_editor = [f"{r['township'] or ''}{r['name']}" for r in rows if not r["editor"]]
    no_supervisor = [f"{r['township'] or ''}{r['name']}" for r in rows if not r["supervisor"]]
    if not rows:
        return Check("staff", "每个村都有村务编辑和监督委员会账号", TODO, "还没有村（社区）",
                     "/admin/users", "管理账号")
    parts = []
    if no_editor:
        parts.append(f"{len(no_editor)} 个村没有村务编辑：{_names(no_editor)}")
    if no_supervisor:
        parts.append(f"{len(no_supervisor)} 个村没有村务监督委员会账号：{_names(no_supervisor)}")
    return Check("staff", "每个村都有村务编辑和监督委员会账号",
                 OK if not parts else TODO,
                 "；".join(parts) or f"{len(rows)} 个村（社区）都有村务编辑和监督委员会账号",
                 "/admin/users", "管理账号（可批量导入）")


def village_lists(conn) -> Check:
    rows = conn.execute(
        """SELECT v.name, t.name AS township,
                  (SELECT count(*) FROM village_item i WHERE i.jurisdiction_code = v.code
                   AND i.status = 'published') AS published,
                  (SELECT count(*) FROM village_item i WHERE i.jurisdiction_code = v.code
                   AND i.status IN ('draft', 'submitted')) AS drafts
           FROM jurisdiction v LEFT JOIN jurisdiction t ON t.code = v.parent_code
           WHERE v.level = 'village' ORDER BY t.sort, t.code, v.sort, v.code""").fetchall()
    missing = [r for r in rows if not r["published"]]
    if not rows:
        return Check("village_lists", "每个村都有村务公开事项清单", TODO, "还没有村（社区）",
                     "/admin/templates/", "清单模板")
    drafting = sum(1 for r in missing if r["drafts"])
    detail = (f"{len(rows)} 个村（社区）都已公开村务公开事项清单" if not missing else
              f"{len(missing)} 个村还没有公开的清单（其中 {drafting} 个已有草稿待审核）："
              + _names([f"{r['township'] or ''}{r['name']}" for r in missing]))
    return Check("village_lists", "每个村都有村务公开事项清单", OK if not missing else TODO, detail,
                 "/admin/templates/", "用清单模板下发到各村")


def terminals(conn) -> Check:
    towns = conn.execute("SELECT code, name FROM jurisdiction WHERE level = 'township' "
                         "ORDER BY sort, code").fetchall()
    county = conn.execute("SELECT code, name FROM jurisdiction WHERE level = 'county' LIMIT 1").fetchone()
    has_fleet = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sync_terminal'").fetchone()
    found = [] if not has_fleet else conn.execute(
        """SELECT t.scope, t.last_contact, t.active, j.level, j.parent_code
           FROM sync_terminal t JOIN jurisdiction j ON j.code = t.scope WHERE t.active = 1""").fetchall()
    now = datetime.now(timezone.utc)
    per: dict[str, list] = {}
    for t in found:
        town = t["scope"] if t["level"] == "township" else (
            t["parent_code"] if t["level"] == "village" else (county["code"] if county else ""))
        per.setdefault(town, []).append(_parse_utc(t["last_contact"]))
    rows, silent, empty = [], 0, []
    places = ([(county["code"], f"{county['name']}（县级）")] if county and per.get(county["code"]) else [])
    places += [(r["code"], r["name"]) for r in towns]
    for code, name in places:
        seen = per.get(code, [])
        last = max((s for s in seen if s), default=None)
        quiet = sum(1 for s in seen if s is None or (now - s).days >= SILENT_DAYS)
        silent += quiet
        if not seen:
            empty.append(name)
        rows.append([name, len(seen), last.astimezone().strftime("%Y-%m-%d %H:%M") if last else "—",
                     f"{quiet} 台超过{SILENT_DAYS}天未联系" if quiet else ("" if seen else "没有查询机")])
    if not found:
        state, detail = TODO, "还没有登记任何查询机：在县级平台运行 kiosk enroll --scope 区划代码 生成注册令牌"
    else:
        state = OK if not silent and not empty else WARN
        detail = f"已登记 {len(found)} 台查询机"
        if empty:
            detail += f"；{len(empty)} 个乡镇（街道）没有查询机：{_names(empty)}"
        if silent:
            detail += f"；{silent} 台超过{SILENT_DAYS}天没有联系"
    return Check("terminals", "各乡镇的查询机已登记并在线", state, detail, "/admin/fleet", "查看终端运行",
                 rows=rows, columns=["乡镇（街道）", "查询机", "最近联系", "情况"])


def boards(conn) -> Check:
    n = conn.execute("SELECT count(*) FROM board WHERE status = 'published'").fetchone()[0]
    return Check("boards", "电子公示栏已设置", OK if n else TODO,
                 f"已设置 {n} 块电子公示栏" if n else "还没有设置电子公示栏（大厅、村务公开栏的大屏）",
                 "/admin/boards/", "设置电子公示栏")


def is_public_host(host: str) -> bool:
    """False for loopback, private, link-local and other addresses a phone outside cannot reach."""
    host = (host or "").strip("[]").lower()
    if not host or host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "." in host              # a name; one without a dot is a local name
    return ip.is_global


def public_url(url: str | None) -> Check:
    if not url:
        return Check("public_url", "公网地址已设置", TODO,
                     "没有设置公网地址：查询机和公示栏上的二维码无法在手机上打开",
                     PUBLIC_URL_HELP, "如何设置")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Check("public_url", "公网地址已设置", TODO, f"公网地址“{url[:80]}”不是有效的网址",
                     PUBLIC_URL_HELP, "如何设置")
    if not is_public_host(parts.hostname):
        return Check("public_url", "公网地址已设置", TODO,
                     f"公网地址 {url} 是本机或内网地址，群众的手机扫码打不开；请改为县级平台对外的域名",
                     PUBLIC_URL_HELP, "如何设置")
    return Check("public_url", "公网地址已设置", OK, f"二维码指向 {url}", PUBLIC_URL_HELP, "如何修改")


def signing_key(conn, data_dir: Path | None, role: str) -> Check:
    title = "签名密钥已生成并备份"
    if role != "hub":
        return Check("key", title, NA, "本机不是县级平台（hub），不向查询机发布内容包", KEY_HELP, "说明")
    path = Path(data_dir or ".") / "keys" / "signing.pem"       # where `kiosk keygen` keeps it
    if not path.exists():
        return Check("key", title, TODO, "还没有签名密钥：请在县级平台运行 kiosk keygen", KEY_HELP, "如何生成")
    made = datetime.fromtimestamp(int(os.stat(path).st_mtime), timezone.utc)   # stamps are whole seconds
    backup = _parse_utc(get_meta(conn, "backup_at"))
    confirmed = _parse_utc(get_meta(conn, "signing_key_backed_up_at"))
    proof = [(t, what) for t, what in ((backup, "kiosk backup 备份"), (confirmed, "管理员确认已离线保存"))
             if t is not None and t >= made]
    if not proof:
        return Check("key", title, TODO,
                     f"签名密钥生成于 {made.astimezone():%Y-%m-%d %H:%M}，之后还没有备份：服务器损坏时"
                     "所有查询机都要重新设置。请运行 kiosk backup，或把 keys/signing.pem 离线保存后在下面确认",
                     KEY_HELP, "备份方法")
    when, what = max(proof)
    return Check("key", title, OK, f"{what}于 {when.astimezone():%Y-%m-%d %H:%M}（密钥生成后）",
                 KEY_HELP, "说明")


def holiday_calendar(conn, today: date) -> Check:
    year = today.year + 1
    status = holidays.year_status(conn, year)
    if status == "missing":
        return Check("holidays", f"明年（{year}年）节假日安排已录入", TODO,
                     f"{year}年的节假日安排还没有录入：该年的答复期限和公开时限暂按周一至周五计算",
                     "/admin/holidays/", "录入节假日安排")
    return Check("holidays", f"明年（{year}年）节假日安排已录入", OK,
                 f"{year}年：{holidays.STATUS_NAMES[status]}", f"/admin/holidays/{year}", "查看")


def tls(url: str | None) -> Check:
    if url and urlsplit(url).scheme == "https":
        return Check("tls", "使用 HTTPS 加密访问", OK, "公网地址使用 https", TLS_HELP, "说明")
    return Check("tls", "使用 HTTPS 加密访问", TODO,
                 "公网地址不是 https：后台登录密码和群众提交的申请会以明文传输",
                 TLS_HELP, "如何配置 HTTPS")


def checklist(conn: sqlite3.Connection, *, today: date, data_dir: Path | None, role: str,
              public: str | None) -> list[Check]:
    """Every line of the checklist, in the order a county works through them."""
    return [divisions(conn), domains_without_items(conn), village_staff(conn), village_lists(conn),
            terminals(conn), boards(conn), public_url(public), signing_key(conn, data_dir, role),
            holiday_calendar(conn, today), tls(public)]


def record_backup(conn: sqlite3.Connection, when: datetime | None = None) -> None:
    """`kiosk backup` ran (the archive holds keys/): the checklist counts the key as backed up."""
    from .db import set_meta  # noqa: PLC0415
    stamp = (when or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_meta(conn, "backup_at", stamp)
