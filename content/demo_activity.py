"""Sample resident activity for the demo county (示例数据): terminals and their views, empty searches,
ratings, applications.

``kiosk demo`` adds it after building the demo county, so the assessment
dashboard of the demo has something to show; instances made with
``kiosk init --demo`` (and the test fixtures) start without resident activity.
Deterministic for a given day (a seeded random generator), dated relative to it.
"""
from __future__ import annotations

import base64
import hashlib
import random
import sqlite3
import uuid
from datetime import date, timedelta

from .jurisdictions import visible_codes
from .timelimits import add_workdays

SEARCH_MISSES = ("电动车上牌", "狂犬疫苗", "新农合缴费", "宅基地审批", "残疾证办理", "独生子女奖励",
                 "农机购置补贴", "公租房排队", "老年证", "医保异地备案", "高考报名", "退役军人优待证")
# Sample terminals (示例): where they stand, their name, days in use, how busy they are.
SAMPLE_TERMINALS = (
    ("340499000000", "县政务服务大厅政务公开专区1号机", 300, 2.2),
    ("340499000000", "县政务服务大厅政务公开专区2号机", 240, 1.6),
    ("340499001000", "{name}便民服务中心查询机", 280, 1.3),
    ("340499100000", "{name}便民服务中心查询机", 260, 1.2),
    ("340499101000", "{name}便民服务中心查询机", 200, 0.9),
    ("340499001001", "{name}信息查阅点", 220, 0.8),
    ("340499100201", "{name}村委会信息查阅点", 180, 0.7),
    ("340499100202", "{name}村委会信息查阅点", 120, 0.5),
    ("340499101201", "{name}村委会信息查阅点", 90, 0.5),
)
RATING_WEIGHTS = (("满意", 70), ("基本满意", 20), ("不满意", 10))

# (received working days ago, applicant, subtype, what happens, outcome, reason, title)
APPLICATIONS = (
    (150, "自然人", "", "reply:12", "予以公开", "", "本村耕地地力保护补贴发放标准"),
    (140, "自然人", "", "reply:18", "部分公开", "", "某道路拓宽工程征地补偿方案"),
    (120, "法人或其他组织", "商业企业", "reply:25", "予以公开", "", "本县公共资源交易项目中标结果"),
    (110, "自然人", "", "reply:9", "不予公开", "保护第三方合法权益", "邻居家低保审批材料"),
    (95, "自然人", "", "reply:30:extend", "予以公开", "", "本镇农村危房改造对象认定依据"),
    (80, "法人或其他组织", "律师事务所", "reply:15", "无法提供", "本机关不掌握相关政府信息", "某企业环评批复原件"),
    (70, "自然人", "", "reply:6", "不予处理", "信访举报投诉类申请", "对村干部的投诉处理结果"),
    (60, "自然人", "", "reply:22", "予以公开", "", "本村2025年度村级财务收支明细"),
    (45, "法人或其他组织", "科研机构", "reply:14", "部分公开", "", "县义务教育学校招生范围调整说明"),
    (35, "自然人", "", "reply:19", "予以公开", "", "养老服务补贴发放名单"),
    (28, "自然人", "", "open", "", "", "城区停车收费标准制定依据"),
    (12, "自然人", "", "open", "", "", "本镇2026年度惠民项目清单"),
    (4, "法人或其他组织", "社会公益组织", "open", "", "", "县级救灾资金使用情况"),
)


def _stamp(day: date, rnd: random.Random) -> str:
    """A UTC timestamp inside Beijing office hours of ``day``."""
    return f"{day.isoformat()}T{rnd.randint(0, 9):02d}:{rnd.randint(0, 59):02d}:00Z"


def add_to_instance(database, today: date | None = None) -> None:
    """Add the activity to a demo database in one transaction, dated from the day it was built."""
    from .db import connect, get_meta, immediate

    conn = connect(database)
    try:
        built = get_meta(conn, "demo_built_on")
        today = today or (date.fromisoformat(built) if built else date.today())
        with immediate(conn):
            add_activity(conn, today)
    finally:
        conn.close()


def add_activity(conn: sqlite3.Connection, today: date) -> None:
    rnd = random.Random(f"demo-activity-{today.isoformat()}")
    _views_and_searches(conn, today, rnd)
    _ratings(conn, today, rnd)
    _applications(conn, today, rnd)


def _views_and_searches(conn, today: date, rnd: random.Random) -> None:
    terminals = _terminals(conn, today)
    targets: dict[str, list] = {}          # jurisdiction → the things published there
    for kind, table in (("item", "catalogue_item"), ("guide", "guide"), ("village_item", "village_item")):
        for ref, code in conn.execute(f"SELECT id, jurisdiction_code FROM {table} "
                                      "WHERE status = 'published' ORDER BY id"):
            targets.setdefault(code, []).append((kind, ref, None))
    for ref, code, published in conn.execute(
            "SELECT id, jurisdiction_code, published_at FROM notice WHERE status = 'published' ORDER BY id"):
        targets.setdefault(code, []).append(("notice", ref, (published or "")[:10]))
    weights = {t: rnd.choice((1, 1, 2, 3, 5, 8)) for pool in targets.values() for t in pool}
    rows = {}
    for terminal, code, installed, busy_factor in terminals:
        # What a terminal shows: its own jurisdiction, the ones above it and below it.
        pool = [t for c in visible_codes(conn, code) for t in targets.get(c, [])]
        for back in range(0, installed):
            day = today - timedelta(days=back)
            busy = busy_factor * (0.4 if day.weekday() >= 5 else 1.0)
            growth = 1.0 + (installed - back) / 300     # residents got used to it
            for kind, ref, since in rnd.sample(pool, min(len(pool), 6)):
                if since and day.isoformat() < since:
                    continue
                n = int(weights[(kind, ref, since)] * busy * growth * rnd.random() * 2)
                if n:
                    key = (day.isoformat(), terminal, kind, ref)
                    rows[key] = rows.get(key, 0) + n
    conn.executemany("INSERT INTO usage_view(day, terminal, kind, ref_id, views) VALUES (?, ?, ?, ?, ?)",
                     [(*k, v) for k, v in sorted(rows.items())])
    misses = {}
    for i, query in enumerate(SEARCH_MISSES):
        for _ in range(max(1, 14 - i) + rnd.randint(0, 3)):
            day = (today - timedelta(days=rnd.randint(0, 80))).isoformat()
            misses[(day, query)] = misses.get((day, query), 0) + 1
    conn.executemany("INSERT INTO usage_search_miss(day, query, count) VALUES (?, ?, ?)",
                     [(*k, v) for k, v in sorted(misses.items())])


def _terminals(conn, today: date) -> list[tuple[str, str, int, float]]:
    """Register the sample terminals in the fleet registry: (id, jurisdiction, days in use, busyness).

    Their keys are made up (nobody holds a private key for them), so they can never
    sign a request; they only give the dashboards something to show.
    """
    out = []
    names = dict(conn.execute("SELECT code, name FROM jurisdiction"))
    for n, (code, label, installed, busy) in enumerate(SAMPLE_TERMINALS, 1):
        if code not in names:
            continue
        raw = hashlib.sha256(f"demo-terminal-{n}".encode()).digest()
        terminal = hashlib.sha256(raw).hexdigest()
        enrolled = today - timedelta(days=installed)
        conn.execute(
            "INSERT OR IGNORE INTO sync_terminal(id, public_key, scope, enrolled_at, last_contact, label, "
            "app_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (terminal, base64.b64encode(raw).decode(), code, f"{enrolled.isoformat()}T01:00:00Z",
             f"{today.isoformat()}T01:00:00Z", label.format(name=names[code]), "示例"))
        out.append((terminal, code, installed, busy))
    return out


def _ratings(conn, today: date, rnd: random.Random) -> None:
    has_domain = "domain_id" in {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
    targets = [("guide", r[0], r[1], r[2]) for r in conn.execute(
        "SELECT id, jurisdiction_code, domain_id FROM guide WHERE status = 'published' ORDER BY id")]
    targets += [("item", r[0], r[1], r[2]) for r in conn.execute(
        "SELECT id, jurisdiction_code, domain_id FROM catalogue_item WHERE status = 'published' "
        "AND id IN (SELECT item_id FROM guide) ORDER BY id")]
    targets += [("village_item", r[0], r[1], None) for r in conn.execute(
        "SELECT id, jurisdiction_code FROM village_item WHERE status = 'published' ORDER BY id LIMIT 12")]
    names, weights = zip(*RATING_WEIGHTS)
    for _ in range(160):
        kind, ref, code, domain = rnd.choice(targets)
        day = today - timedelta(days=int(rnd.triangular(0, 300, 30)))
        rating = rnd.choices(names, weights)[0]
        cols = ["uuid", "jurisdiction_code", "target_type", "target_id", "rating", "created_at"]
        vals = [str(uuid.UUID(int=rnd.getrandbits(128))), code, kind, ref, rating, _stamp(day, rnd)]
        if has_domain:
            cols.append("domain_id")
            vals.append(domain)
        conn.execute(f"INSERT INTO feedback({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", vals)


def _applications(conn, today: date, rnd: random.Random) -> None:
    cols = {r[1] for r in conn.execute("PRAGMA table_info(application)")}
    places = [r[0] for r in conn.execute("SELECT code FROM jurisdiction WHERE level != 'village' ORDER BY code")]
    for n, (ago, kind, sub, plan, outcome, reason, title) in enumerate(APPLICATIONS, 1):
        received = add_workdays(today, -ago)
        extension = 20 if plan.endswith(":extend") else 0
        due = add_workdays(received, 20 + extension)
        row = {"uuid": str(uuid.UUID(int=rnd.getrandbits(128))),
               "receipt_no": f"SL{received.strftime('%Y%m%d')}-{n:03d}",
               "jurisdiction_code": places[n % len(places)], "applicant_type": kind,
               "applicant_subtype": sub if sub in ("商业企业", "科研机构", "社会公益组织", "法律服务机构") else
               ("其他" if sub else ""),
               "name": f"示例申请人{n}", "phone": f"1380000{n:04d}", "description": title,
               "provision_form": "纸质", "delivery": "自行领取", "stage": "办理",
               "received_on": received.isoformat(), "due_on": due.isoformat(),
               "title": title, "clock_start": received.isoformat(), "extension_days": extension,
               "extension_reason": "需要调取档案，经负责人同意延期" if extension else ""}
        if plan.startswith("reply"):
            replied = add_workdays(received, int(plan.split(":")[1]))
            if replied <= today:
                row.update(stage="答复", outcome=outcome, outcome_reason=reason,
                           reply_note="示例答复", replied_on=replied.isoformat())
        row = {k: v for k, v in row.items() if k in cols}
        conn.execute(f"INSERT INTO application({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
