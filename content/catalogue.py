"""Reading the standard catalogue and the village-affairs lists (published rows only)."""
from __future__ import annotations

import json
import sqlite3

# The ten focus areas the seed names for village-affairs lists.
VILLAGE_CATEGORIES = ("脱贫攻坚", "乡村振兴", "村级财务", "惠农政策", "养老服务",
                      "社会救助", "保障性住房", "农村危房改造", "义务教育", "医疗卫生")

# The standard checkbox list of 公开渠道和载体.
CHANNELS = ("政府网站", "政府公报", "两微一端", "发布会/听证会", "广播电视", "纸质媒体",
            "公开查阅点", "政务服务中心", "便民服务站", "入户/现场",
            "社区/企事业单位/村公示栏(电子屏)", "精准推送", "其他")


def _in(codes: list[str]) -> str:
    return ",".join("?" * len(codes)) or "NULL"


def list_domains(conn: sqlite3.Connection, codes: list[str]) -> list[dict]:
    """Every domain with how many published items the visible jurisdictions have in it."""
    rows = conn.execute(
        f"""
        SELECT d.*, (SELECT count(*) FROM catalogue_item i
                     WHERE i.domain_id = d.id AND i.status = 'published'
                       AND i.jurisdiction_code IN ({_in(codes)})) AS item_count
        FROM domain d WHERE d.hidden = 0 ORDER BY d.sort, d.id
        """, codes).fetchall()
    return [dict(r, departments=json.loads(r["departments"])) for r in rows]


def get_domain(conn: sqlite3.Connection, domain_id: int) -> dict | None:
    row = conn.execute("SELECT * FROM domain WHERE id = ?", (domain_id,)).fetchone()
    return dict(row, departments=json.loads(row["departments"])) if row else None


def _item(row: sqlite3.Row) -> dict:
    item = dict(row)
    for key in ("channels", "levels"):
        item[key] = json.loads(item[key])
    item["time_limit"] = json.loads(item["time_limit"]) if item["time_limit"] else None
    return item


def domain_items(conn: sqlite3.Connection, domain_id: int, codes: list[str]) -> list[dict]:
    """Published items of a domain, county first, then townships, in catalogue order."""
    rows = conn.execute(
        f"""
        SELECT i.*, j.name AS jurisdiction_name, j.level AS jurisdiction_level
        FROM catalogue_item i JOIN jurisdiction j ON j.code = i.jurisdiction_code
        WHERE i.domain_id = ? AND i.status = 'published' AND i.jurisdiction_code IN ({_in(codes)})
        ORDER BY CASE j.level WHEN 'county' THEN 0 WHEN 'township' THEN 1 ELSE 2 END,
                 j.sort, i.seq, i.id
        """, [domain_id, *codes]).fetchall()
    return [_item(r) for r in rows]


def get_item(conn: sqlite3.Connection, item_id: int, codes: list[str]) -> dict | None:
    row = conn.execute(
        f"""
        SELECT i.*, j.name AS jurisdiction_name, j.level AS jurisdiction_level,
               d.name AS domain_name
        FROM catalogue_item i JOIN jurisdiction j ON j.code = i.jurisdiction_code
        JOIN domain d ON d.id = i.domain_id
        WHERE i.id = ? AND i.status = 'published' AND i.jurisdiction_code IN ({_in(codes)})
        """, [item_id, *codes]).fetchone()
    return _item(row) if row else None


def village_items(conn: sqlite3.Connection, village_code: str) -> list[dict]:
    rows = conn.execute(
        """
        SELECT v.*, m.title AS matter_title FROM village_item v
        LEFT JOIN matter m ON m.id = v.matter_id
        WHERE v.jurisdiction_code = ? AND v.status = 'published'
        ORDER BY v.seq, v.id
        """, (village_code,)).fetchall()
    order = {c: n for n, c in enumerate(VILLAGE_CATEGORIES)}
    items = [dict(r, channels=json.loads(r["channels"])) for r in rows]
    items.sort(key=lambda i: (order.get(i["category"], len(order)), i["seq"], i["id"]))
    return items


def get_village_item(conn: sqlite3.Connection, item_id: int, codes: list[str]) -> dict | None:
    row = conn.execute(
        f"""
        SELECT v.*, j.name AS jurisdiction_name, m.title AS matter_title FROM village_item v
        JOIN jurisdiction j ON j.code = v.jurisdiction_code
        LEFT JOIN matter m ON m.id = v.matter_id
        WHERE v.id = ? AND v.status = 'published' AND v.jurisdiction_code IN ({_in(codes)})
        """, [item_id, *codes]).fetchone()
    return dict(row, channels=json.loads(row["channels"])) if row else None


def sibling_items(conn: sqlite3.Connection, item: dict, codes: list[str]) -> list[dict]:
    """Other published items of the same 一级事项 in the same domain (its 办事指南, 审核信息 …
    at this and the other visible levels): from any one of them a resident reaches the rest."""
    rows = conn.execute(
        f"""
        SELECT i.id, i.level1, i.level2, j.name AS jurisdiction_name, j.level AS jurisdiction_level
        FROM catalogue_item i JOIN jurisdiction j ON j.code = i.jurisdiction_code
        WHERE i.domain_id = ? AND i.level1 = ? AND i.id != ? AND i.status = 'published'
          AND i.jurisdiction_code IN ({_in(codes)})
        ORDER BY CASE j.level WHEN 'county' THEN 0 WHEN 'township' THEN 1 ELSE 2 END,
                 j.sort, i.seq, i.id
        """, [item["domain_id"], item["level1"], item["id"], *codes]).fetchall()
    return [dict(r) for r in rows]
