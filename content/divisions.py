"""Townships and villages from the statistics bureau's division-code file (统计用区划代码).

The file counties download lists 12-digit codes with names and, for villages, the
urban-rural class (城乡分类代码, e.g. ``220`` or ``220(村庄)``). The level comes from the
code: digits 7–9 are the township (``000`` = none, so the county itself or above),
digits 10–12 the village. The township's kind comes from its first digit (0 街道,
1 镇, 2–3 乡); a village is a 社区 when it is a 居委会, a 村 when it is a 村委会.

An import is all or nothing. Importing a newer year's file adds new places and
renames changed ones; a place missing from the newer file (撤并) is never deleted: it
is listed for the county administrator, who merges it into its successor (its content
and accounts move there) or retires it. Every change is kept in ``division_change``.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from . import editing, jurisdictions
from .db import immediate
from .sheets import SheetError, find_header, read_bytes, read_rows

COLUMNS = {
    "code": ("统计用区划代码", "区划代码", "代码", "行政区划代码", "统计用区划代码(12位)"),
    "name": ("名称", "区划名称", "单位名称", "行政区划名称"),
    "urban_rural": ("城乡分类代码", "城乡分类", "城乡分类代码(3位)"),
}
_URBAN_RURAL = re.compile(r"^(\d{3})\s*(?:[(（][^()（）]*[)）])?$")
MAX_NAME = 60

# Tables whose rows belong to a jurisdiction and move to a successor on a merge.
_OWNED = ("village_item", "notice", "guide", "consultation", "catalogue_item", "handbook", "policy_document")


class DivisionError(SheetError):
    """The file was refused; nothing was written."""


@dataclass
class Division:
    line: int
    code: str
    name: str
    level: str            # township / village
    kind: str
    urban_rural: str = ""

    @property
    def parent_code(self) -> str:
        return self.code[:6] + "000000" if self.level == "township" else self.code[:9] + "000"


@dataclass
class DivisionResult:
    county_name: str
    townships: int = 0
    villages: int = 0
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)   # code, old, new
    missing: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    skipped_other: int = 0

    def summary(self) -> str:
        parts = [f"已导入{self.county_name}行政区划：乡镇（街道）{self.townships} 个，"
                 f"村（社区）{self.villages} 个",
                 f"新增 {len(self.added)} 个，改名 {len(self.renamed)} 个"]
        if self.missing:
            parts.append(f"新文件中没有的 {len(self.missing)} 个（撤并？）已列入待处理，"
                         "请在后台「区划与领域」页合并到承接的村或停用")
        if self.skipped_other:
            parts.append(f"跳过不属于本县的 {self.skipped_other} 行")
        return "；".join(parts)


def township_kind(code: str, name: str) -> str:
    first = code[6]
    if first == "0":
        return "街道"
    if first == "1":
        return "镇"
    if first in "23":
        return "乡"
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) or name.endswith(suffix + "办事处"):
            return suffix
    return ""


def village_kind(name: str, urban_rural: str) -> str:
    if re.search(r"(居委会|居民委员会|社区)$", name):
        return "社区"
    if re.search(r"(村委会|村民委员会|村)$", name):
        return "村"
    return "社区" if urban_rural.startswith("1") else "村"


def _code_text(cell: str) -> str:
    text = cell.strip().lstrip("'").replace(" ", "")
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    return text


def _line_of(message: str) -> int:
    m = re.match(r"第(\d+)行", message)
    return int(m.group(1)) if m else 0


def parse(rows: list[list[str]], county_code: str,
          known=lambda code: False) -> tuple[list[Division], int]:
    """The county's townships and villages in file order, and how many rows were of other
    counties; DivisionError lists every bad row. ``known(code)`` tells whether a township
    missing from the file is already in the system."""
    try:
        h, cols = find_header(rows, COLUMNS, ("code", "name"))
    except SheetError as e:
        raise DivisionError(e.errors) from e
    prefix = county_code[:6]
    out: list[Division] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    skipped = 0

    def cell(row, fld):
        j = cols.get(fld)
        return row[j].strip() if j is not None and j < len(row) else ""

    for i, row in enumerate(rows[h + 1:], start=h + 2):
        if not any(c.strip() for c in row):
            continue
        code, name, ur = _code_text(cell(row, "code")), cell(row, "name"), cell(row, "urban_rural")
        where = f"第{i}行"
        if not re.fullmatch(r"\d{12}", code):
            errors.append(f"{where}：区划代码「{code[:20]}」应为12位数字")
            continue
        if code[:6] != prefix:
            # A city's or province's file also lists the levels above and other counties.
            skipped += 1
            continue
        if code[6:] == "000000":
            continue                       # the county itself
        if not name:
            errors.append(f"{where}：区划代码 {code} 缺少名称")
            continue
        if len(name) > MAX_NAME:
            errors.append(f"{where}：名称超过{MAX_NAME}个字")
            continue
        m = _URBAN_RURAL.match(ur) if ur else None
        if ur and m is None:
            errors.append(f"{where}：城乡分类代码「{ur[:20]}」应为3位数字，如 220 或 220(村庄)")
            continue
        if code in seen:
            errors.append(f"{where}：区划代码 {code} 与第{seen[code]}行重复")
            continue
        seen[code] = i
        if code[6:9] == "000":
            errors.append(f"{where}：区划代码 {code} 的乡镇段为000，却不是县本身")
            continue
        if code[9:] == "000":
            out.append(Division(i, code, name, "township", township_kind(code, name),
                                m.group(1) if m else ""))
        else:
            out.append(Division(i, code, name, "village", village_kind(name, m.group(1) if m else ""),
                                m.group(1) if m else ""))
    for d in out:
        if d.level == "village" and d.parent_code not in seen and not known(d.parent_code):
            errors.append(f"第{d.line}行：{d.name}（{d.code}）所属的乡镇 {d.parent_code} "
                          "不在文件中，也不在系统里")
    if not errors and not out:
        errors.append(f"文件中没有本县（{prefix}）的乡镇或村；请确认下载的是本县的统计用区划代码")
    if errors:
        raise DivisionError(sorted(errors, key=_line_of))
    return out, skipped


def read_file(path_or_bytes, filename: str | None = None) -> list[list[str]]:
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return read_rows(bytes(path_or_bytes), filename or "")
    return read_rows(read_bytes(path_or_bytes), filename or str(path_or_bytes))


def _change(conn, import_id, code, change, old="", new="", successor=None, username=""):
    conn.execute("INSERT INTO division_change(import_id, code, change, old_name, new_name, "
                 "successor_code, username) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (import_id, code, change, old, new, successor, username))


def import_divisions(conn: sqlite3.Connection, path_or_bytes, filename: str | None = None,
                     user=None, remote: str = "") -> DivisionResult:
    """Add and rename the county's townships and villages from the file, in one transaction."""
    county = jurisdictions.county(conn)
    if county is None:
        raise DivisionError(["数据库中还没有县，请先运行 kiosk init --county 代码 --county-name 县名"])
    rows = read_file(path_or_bytes, filename)
    divisions, skipped = parse(rows, county["code"],
                               known=lambda code: jurisdictions.get(conn, code) is not None)
    in_file = {d.code for d in divisions}
    username = user["username"] if user is not None else "kiosk import-divisions"
    result = DivisionResult(county["name"], skipped_other=skipped)
    source = Path(filename or str(path_or_bytes) if not isinstance(path_or_bytes, (bytes, bytearray))
                  else filename or "").name
    with immediate(conn):
        import_id = conn.execute("INSERT INTO division_import(filename, username) VALUES (?, ?)",
                                 (source, username)).lastrowid
        for sort, d in enumerate(divisions, start=1):
            if d.level == "township":
                result.townships += 1
            else:
                result.villages += 1
            old = jurisdictions.get(conn, d.code)
            if old is None:
                conn.execute("INSERT INTO jurisdiction(code, name, level, parent_code, kind, sort, "
                             "urban_rural) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (d.code, d.name, d.level, d.parent_code, d.kind, sort, d.urban_rural))
                _change(conn, import_id, d.code, "added", new=d.name, username=username)
                result.added.append(d.code)
                continue
            conn.execute("UPDATE jurisdiction SET name = ?, kind = ?, sort = ?, urban_rural = ?, "
                         "retired_on = NULL, successor_code = NULL WHERE code = ?",
                         (d.name, d.kind or old["kind"], sort, d.urban_rural or old["urban_rural"],
                          d.code))
            if old["name"] != d.name:
                _change(conn, import_id, d.code, "renamed", old["name"], d.name, username=username)
                result.renamed.append((d.code, old["name"], d.name))
            if old["retired_on"] is not None or last_change(conn, d.code) == "missing":
                _change(conn, import_id, d.code, "returned", new=d.name, username=username)
                result.returned.append(d.code)
        for row in conn.execute("SELECT code, name FROM jurisdiction WHERE level != 'county' "
                                "AND retired_on IS NULL ORDER BY code").fetchall():
            if row["code"] not in in_file and last_change(conn, row["code"]) != "missing":
                _change(conn, import_id, row["code"], "missing", old=row["name"], username=username)
                result.missing.append(row["code"])
        conn.execute("UPDATE division_import SET added = ?, renamed = ?, missing = ? WHERE id = ?",
                     (len(result.added), len(result.renamed), len(result.missing), import_id))
        editing.audit(conn, user, "import", "jurisdiction", county["code"], None,
                      {"file": source, "added": len(result.added), "renamed": len(result.renamed),
                       "missing": len(result.missing)}, remote, username=username)
        editing.bump_content_version(conn)
    return result


def last_change(conn: sqlite3.Connection, code: str) -> str | None:
    row = conn.execute("SELECT change FROM division_change WHERE code = ? ORDER BY id DESC LIMIT 1",
                       (code,)).fetchone()
    return row[0] if row else None


def pending(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Places a newer file no longer lists (撤并), still active: to merge or retire."""
    return conn.execute(
        "SELECT j.* FROM jurisdiction j WHERE j.retired_on IS NULL AND j.level != 'county' AND "
        "(SELECT change FROM division_change c WHERE c.code = j.code ORDER BY c.id DESC LIMIT 1) "
        "= 'missing' ORDER BY j.code").fetchall()


def history(conn: sqlite3.Connection, limit: int = 200) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT c.*, j.name AS current_name, j.level FROM division_change c "
        "JOIN jurisdiction j ON j.code = c.code ORDER BY c.id DESC LIMIT ?", (limit,)).fetchall()


def merge(conn: sqlite3.Connection, user, code: str, successor_code: str, today: str,
          remote: str = "") -> dict[str, int]:
    """Merge a vanished place into its successor: its content and accounts move there, the
    place stays in the tree as retired (history and old revisions keep pointing at it)."""
    old, new = jurisdictions.get(conn, code), jurisdictions.get(conn, successor_code)
    if old is None or new is None or old["level"] != new["level"] or code == successor_code:
        raise ValueError("只能合并到同一级别的另一个区划")
    if new["retired_on"] is not None:
        raise ValueError(f"「{new['name']}」已停用，不能作为承接单位")
    moved = {}
    with immediate(conn):
        for table in _OWNED:
            moved[table] = conn.execute(f"UPDATE {table} SET jurisdiction_code = ? "
                                        "WHERE jurisdiction_code = ?", (successor_code, code)).rowcount
        conn.execute("UPDATE notice SET subject_code = ? WHERE subject_code = ?", (successor_code, code))
        conn.execute("UPDATE revision SET jurisdiction_code = ? WHERE jurisdiction_code = ? "
                     "AND state IN ('draft', 'submitted', 'returned')", (successor_code, code))
        moved["user"] = conn.execute("UPDATE user SET jurisdiction_code = ? WHERE jurisdiction_code = ?",
                                     (successor_code, code)).rowcount
        if old["level"] == "township":
            conn.execute("UPDATE jurisdiction SET parent_code = ? WHERE parent_code = ? "
                         "AND retired_on IS NULL", (successor_code, code))
        conn.execute("UPDATE jurisdiction SET retired_on = ?, successor_code = ? WHERE code = ?",
                     (today, successor_code, code))
        _change(conn, None, code, "merged", old["name"], new["name"], successor_code,
                user["username"] if user else "")
        editing.audit(conn, user, "merge", "jurisdiction", code, {"name": old["name"]},
                      {"successor": successor_code, "moved": moved}, remote)
        editing.bump_content_version(conn)
    return moved


def retire(conn: sqlite3.Connection, user, code: str, today: str, remote: str = "") -> None:
    """Retire a vanished place without a successor: its content stays (kept, no longer listed)."""
    old = jurisdictions.get(conn, code)
    if old is None or old["level"] == "county":
        raise ValueError("没有这个乡镇或村")
    with immediate(conn):
        conn.execute("UPDATE jurisdiction SET retired_on = ? WHERE code = ?", (today, code))
        conn.execute("UPDATE user SET active = 0, disabled_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                     "WHERE jurisdiction_code = ? AND active = 1", (code,))
        _change(conn, None, code, "retired", old["name"], username=user["username"] if user else "")
        editing.audit(conn, user, "retire", "jurisdiction", code, {"name": old["name"]}, None, remote)
        editing.bump_content_version(conn)
