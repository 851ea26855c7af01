"""受理机关: which organ answers an application, and 转办 from one organ to another.

The organs are derived from the county's own data: the county government and its
departments (the departments named in the domains, 领域), and each township government.
Village committees are not 行政机关 and answer no application.  An organ is written as a
key: the jurisdiction's code for a government, ``code/部门`` for a county department.

转办 keeps the clock running (``transfer``): the 20 working days count from the day the
application was first received, whichever organ answers it.  The county's departments and
townships are one government to the applicant, and a transfer between them is an internal
matter: restarting the clock would let an application be passed round to win time, which
the regulation's fixed limit is there to prevent.  The receiving organ starts at 登记 so
that it checks the application itself; the due date stays.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from . import jurisdictions
from .applications import Refused, _audit, get, now_utc, publish_status
from .db import immediate

TRANSFER_STAGES = ("登记", "审核", "办理")
MAX_REASON = 200


@dataclass(frozen=True)
class Organ:
    code: str        # the jurisdiction (the county for its departments)
    dept: str        # '' for the government itself
    name: str        # as printed on letters: 淮川县财政局, 东湖镇人民政府

    @property
    def key(self) -> str:
        return f"{self.code}/{self.dept}" if self.dept else self.code

    @property
    def group(self) -> str:
        return "县直部门" if self.dept else "人民政府"


def _government_name(name: str) -> str:
    """东湖镇 → 东湖镇人民政府; a 街道 has an office (街道办事处), not a government."""
    if name.endswith(("人民政府", "办事处")):
        return name
    return name + ("办事处" if name.endswith("街道") else "人民政府")


def _department_name(county: str, dept: str) -> str:
    """淮川县 + 县财政局 → 淮川县财政局 (the domains write departments as 县财政局)."""
    if dept.startswith(("县", "区", "市")) and county.endswith(dept[0]):
        dept = dept[1:]
    return county + dept


def county_departments(conn: sqlite3.Connection) -> list[str]:
    """The departments named in the county's domains, in the domains' order, once each."""
    seen: list[str] = []
    for row in conn.execute("SELECT departments FROM domain WHERE hidden = 0 ORDER BY sort, id"):
        for dept in json.loads(row["departments"] or "[]"):
            if dept and dept not in seen:
                seen.append(dept)
    return seen


def organs(conn: sqlite3.Connection) -> list[Organ]:
    """Every organ an application may be addressed to: governments first, then departments."""
    county = jurisdictions.county(conn)
    if county is None:
        return []
    out = [Organ(county["code"], "", _government_name(county["name"]))]
    out += [Organ(t["code"], "", _government_name(t["name"])) for t in jurisdictions.children(conn, county["code"])]
    out += [Organ(county["code"], d, _department_name(county["name"], d)) for d in county_departments(conn)]
    return out


def parse_key(conn: sqlite3.Connection, key: str) -> Organ | None:
    """The organ of a form's key, or None when it is not one of ``organs``."""
    key = (key or "").strip()
    return next((o for o in organs(conn) if o.key == key), None)


def organ_of(conn: sqlite3.Connection, row) -> Organ | None:
    """The organ an application is with (None for old applications without one)."""
    code = row["organ_code"] if "organ_code" in row.keys() else ""
    if not code:
        return None
    found = parse_key(conn, f"{code}/{row['organ_dept']}" if row["organ_dept"] else code)
    if found is not None:
        return found
    j = jurisdictions.get(conn, code)     # a department since renamed: keep what was recorded
    base = j["name"] if j else code
    return Organ(code, row["organ_dept"],
                 _department_name(base, row["organ_dept"]) if row["organ_dept"] else _government_name(base))


def organ_name(conn: sqlite3.Connection, row) -> str:
    """The organ's name as printed; an application without one is with its receiving point's government."""
    organ = organ_of(conn, row) or default_organ(conn, row["jurisdiction_code"])
    return organ.name if organ else ""


def namer(conn: sqlite3.Connection):
    """``organ_name`` for many rows (a list page): the organs are derived once."""
    names = {o.key: o.name for o in organs(conn)}
    homes: dict[str, str] = {}

    def name(row) -> str:
        code = row["organ_code"]
        if code:
            key = f"{code}/{row['organ_dept']}" if row["organ_dept"] else code
            return names.get(key) or organ_name(conn, row)
        if row["jurisdiction_code"] not in homes:
            homes[row["jurisdiction_code"]] = organ_name(conn, row)
        return homes[row["jurisdiction_code"]]
    return name


def government_of(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    """The jurisdiction whose government answers for ``code``: a village's township, else itself."""
    chain = jurisdictions.ancestors(conn, code)
    return chain[min(1, len(chain) - 1)] if chain else None   # county → county; township, village → township


def default_organ(conn: sqlite3.Connection, home_code: str) -> Organ | None:
    """The government nearest a receiving point."""
    target = government_of(conn, home_code)
    return parse_key(conn, target["code"]) if target else None


def transfer(conn: sqlite3.Connection, record_uuid: str, to_key: str, reason: str, on: date,
             user=None, remote: str = "") -> sqlite3.Row:
    """转办: hand the application to another organ, in one transaction (row, transfer record,
    event, audit, public status).  The due date does not move (see the module docstring)."""
    reason = " ".join((reason or "").split())
    with immediate(conn):
        row = get(conn, record_uuid)
        if row is None:
            raise Refused("没有这件申请")
        if row["stage"] not in TRANSFER_STAGES:
            raise Refused(f"“转办”只能在{'、'.join(TRANSFER_STAGES)}阶段进行，本申请当前处于“{row['stage']}”阶段")
        target = parse_key(conn, to_key)
        if target is None:
            raise Refused("请选择接收转办的受理机关")
        current = organ_of(conn, row)
        if current is not None and current.key == target.key:
            raise Refused(f"本申请已由{target.name}办理，请选择其他机关")
        if not reason:
            raise Refused("请写明转办理由，例如：所需信息由该机关制作或保存")
        if len(reason) > MAX_REASON:
            raise Refused(f"转办理由请不超过{MAX_REASON}个字")
        if on < date.fromisoformat(row["received_on"]):
            raise Refused(f"日期不能早于收到申请之日（{row['received_on']}）")
        from_code, from_dept = (current.code, current.dept) if current else (row["jurisdiction_code"], "")
        conn.execute(
            "INSERT INTO application_transfer(application_uuid, on_date, from_code, from_dept, to_code, "
            "to_dept, reason, username) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record_uuid, on.isoformat(), from_code, from_dept, target.code, target.dept, reason,
             user["username"] if user else ""))
        conn.execute("UPDATE application SET organ_code = ?, organ_dept = ?, stage = '登记', updated_at = ? "
                     "WHERE uuid = ?", (target.code, target.dept, now_utc(), record_uuid))
        data = {"to": target.name, "from": current.name if current else "", "due_on": row["due_on"]}
        conn.execute(
            "INSERT INTO application_event(application_uuid, action, on_date, stage_before, stage_after, "
            "note, data, user_id, username) VALUES (?, 'transfer', ?, ?, '登记', ?, ?, ?, ?)",
            (record_uuid, on.isoformat(), row["stage"], f"转至{target.name}：{reason}",
             json.dumps(data, ensure_ascii=False), user["id"] if user else None,
             user["username"] if user else ""))
        _audit(conn, user, "application_transfer", row["receipt_no"],
               {"organ": data["from"], "stage": row["stage"]},
               {"organ": target.name, "stage": "登记", "reason": reason, "due_on": row["due_on"]}, remote)
        row = get(conn, record_uuid)
        publish_status(conn, row)
    return row


def transfers(conn: sqlite3.Connection, record_uuid: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM application_transfer WHERE application_uuid = ? ORDER BY id",
                        (record_uuid,)).fetchall()
