"""A real county from zero: the county row, the 26 standard domains and the first administrator.

The domains and their departments are the seed's annex (国务院部门 26 个试点领域),
written for a county: the annex names city bureaus (市民政局), a county has 县民政局.
"""
from __future__ import annotations

import json
import re
import sqlite3

from . import users
from .db import get_meta, set_meta

# (domain, departments) in the annex's order; departments in county wording.
STANDARD_DOMAINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("国土空间规划", ("县自然资源和规划局",)),
    ("重大建设项目", ("县发展改革委",)),
    ("财政预决算", ("县财政局",)),
    ("税收管理", ("县税务局",)),
    ("环境保护", ("县生态环境局",)),
    ("食品药品监管", ("县市场监管局",)),
    ("安全生产", ("县应急管理局",)),
    ("公共文化服务", ("县文化和旅游局",)),
    ("公共法律服务", ("县司法局",)),
    ("就业创业", ("县人力资源和社会保障局",)),
    ("社会救助", ("县民政局",)),
    ("社会保险", ("县人力资源和社会保障局",)),
    ("户籍管理", ("县公安局",)),
    ("医疗卫生", ("县卫生健康委",)),
    ("涉农补贴", ("县农业农村局",)),
    ("城市综合执法", ("县城乡建设局", "县住房保障和房产管理局", "县城市管理行政执法局")),
    ("养老服务", ("县民政局",)),
    ("征地补偿", ("县自然资源和规划局",)),
    ("国有土地上房屋征收", ("县住房保障和房产管理局",)),
    ("保障性住房", ("县住房保障和房产管理局",)),
    ("农村危房改造", ("县城乡建设局",)),
    ("扶贫", ("县扶贫办",)),
    ("救灾", ("县应急管理局",)),
    ("市政服务", ("县城乡建设局", "县城市管理行政执法局")),
    ("公共资源交易", ("县公共资源交易监管局",)),
    ("义务教育", ("县教育体育局",)),
)


class CountyError(ValueError):
    """Input refused; the message is for the county IT person (Chinese)."""


def county_code(text: str) -> str:
    """The 12-digit code of a county given as 6 or 12 digits (340421 → 340421000000)."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d{6}|\d{12}", text):
        raise CountyError(f"县级行政区划代码应为6位或12位数字，实际是「{text}」")
    code = text.ljust(12, "0")
    if code[6:] != "000000" or code[4:6] == "00":
        raise CountyError(f"「{text}」不是县级行政区划代码（县级代码形如 340421 或 340421000000）")
    return code


def county_kind(name: str) -> str:
    for suffix in ("自治县", "自治旗", "县", "区", "市", "旗"):
        if name.endswith(suffix):
            return suffix
    return "县"


def add_standard_domains(conn: sqlite3.Connection) -> int:
    """Insert the 26 pilot domains that are missing; returns how many were added."""
    added = 0
    for sort, (name, departments) in enumerate(STANDARD_DOMAINS, start=1):
        cur = conn.execute(
            "INSERT INTO domain(name, departments, pilot, sort) VALUES (?, ?, 1, ?) "
            "ON CONFLICT(name) DO NOTHING",
            (name, json.dumps(list(departments), ensure_ascii=False), sort))
        added += cur.rowcount
    return added


def create_county(conn: sqlite3.Connection, code: str, name: str, admin: str,
                  public_url: str | None = None) -> str:
    """The county, its standard domains and its first administrator, in one transaction.

    Returns the administrator's one-time password. Raises CountyError when the
    database already holds a county or the input is wrong.
    """
    from . import editing  # noqa: PLC0415  (editing imports auth; keep this module light)
    from .public_url import check_public_url  # noqa: PLC0415
    code = county_code(code)
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise CountyError("县名不能为空，最多40个字")
    users.check_username(admin)
    if public_url:
        public_url = check_public_url(public_url)
    existing = conn.execute("SELECT code, name FROM jurisdiction WHERE level = 'county'").fetchone()
    if existing is not None:
        raise CountyError(f"数据库中已经有县「{existing['name']}」（{existing['code']}），未做任何修改")
    password = users.one_time_password()
    with editing.transaction(conn):
        conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind) "
                     "VALUES (?, ?, 'county', NULL, ?)", (code, name, county_kind(name)))
        add_standard_domains(conn)
        set_meta(conn, "county_name", name)
        if get_meta(conn, "demo") is None:
            set_meta(conn, "demo", "0")
        if public_url:
            set_meta(conn, "public_url", public_url)
        uid = users.create_user(conn, admin, password, "county_admin", code, must_change=True)
        editing.audit(conn, None, "create", "jurisdiction", code, None,
                      {"name": name, "level": "county"}, username="kiosk init")
        editing.audit(conn, None, "create", "user", uid, None,
                      {"username": admin, "role": "county_admin", "jurisdiction_code": code},
                      username="kiosk init")
    return password
