"""A county-scale dataset for the benchmarks, written straight into a migrated database.

30 townships, 400 villages, 20k catalogue items, 100k notices with table rows, 2k guides,
matters with their county/township/village notices, village-affairs lists, and a year of
staff-side history (tests/bench/history.py). Deterministic
for a seed and a date; one transaction of executemany, so a full county takes seconds.

    python tests/bench/generate.py DATA_DIR [--scale 1.0] [--seed N]

makes DATA_DIR a standalone instance (kiosk.toml, secret, database) ready for `kiosk serve`.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from content import db, search  # noqa: E402
from content.catalogue import CHANNELS, VILLAGE_CATEGORIES  # noqa: E402
from tests.bench.history import add_history  # noqa: E402

COUNTY = "340499000000"
FULL = {"townships": 30, "villages": 400, "items": 20_000, "notices": 100_000, "guides": 2_000,
        "matters": 40, "village_items": 15}  # village_items: per village

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "明华国芳英兰军春山平建文桂秀玉德海金红林"
GROUPS = ["一组", "二组", "三组", "四组", "五组", "六组"]
TOWN_NAMES = "东湖 柳林 青山 白马 石桥 河口 新集 高塘 马岗 杨庙 双河 龙泉 三塔 观音 永丰 长岭 枣林 沙河 花园 金桥 五里 大店 小溪 鹿鸣 梅山 松林 凤凰 荷塘 桃源 清水".split()
VILLAGE_WORDS = "杏花 桥头 白塔 王庄 李湾 张圩 新村 后楼 前营 孙岗 刘台 陈洼 中心 友谊 和平 红星 胜利 团结 光明 幸福".split()
KINDS = ["公示", "公告", "信息"]


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "*" + rng.choice(GIVEN)


def _id_number(rng: random.Random) -> str:
    return f"3404**********{rng.randrange(10000):04d}"


def _scaled(scale: float) -> dict:
    sizes = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    sizes["village_items"] = FULL["village_items"]
    sizes["villages"] = max(sizes["villages"], sizes["townships"])
    return sizes


def generate(data_dir: Path, scale: float = 1.0, seed: int = 20201, today: date | None = None) -> dict:
    """Make a standalone instance in ``data_dir`` filled with a synthetic county; return counts."""
    from kiosk import config
    from kiosk.cli import create_instance

    today = today or date.today()
    rng = random.Random(seed)
    sizes = _scaled(scale)
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / config.DATABASE_NAME).exists():
        raise RuntimeError(f"{data_dir} already has a database")
    database = create_instance(data_dir, "standalone")
    conn = db.open_database(database)
    started = time.perf_counter()
    # A throwaway benchmark database: no rollback journal or fsync while it is built,
    # WAL again (as every instance runs) once it is done.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # The per-row search triggers paused; the index built in one set-based pass instead.
        with search.paused(conn):
            counts = _fill(conn, rng, sizes, today)
        search.index_all(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _fill(conn, rng: random.Random, sizes: dict, today: date) -> dict:
    stamp = today.isoformat() + "T00:00:00Z"
    for key, value in {"county_name": "淮川县（基准测试）", "content_version": "1",
                       "content_updated": today.isoformat()}.items():
        db.set_meta(conn, key, value)

    # -- jurisdictions: codes are 6 county + 3 township + 3 village digits
    towns = [f"340499{101 + t:03d}000" for t in range(sizes["townships"])]
    villages: dict[str, list[str]] = {t: [] for t in towns}
    for v in range(sizes["villages"]):
        town = towns[v % len(towns)]
        villages[town].append(f"{town[:9]}{201 + len(villages[town]):03d}")
    rows = [(COUNTY, "淮川县", "county", None, "县", 0)]
    for n, t in enumerate(towns):
        rows.append((t, TOWN_NAMES[n % len(TOWN_NAMES)] + ("镇" if n % 3 else "乡"), "township",
                     COUNTY, "镇" if n % 3 else "乡", n + 1))
        for m, v in enumerate(villages[t]):
            rows.append((v, VILLAGE_WORDS[m % len(VILLAGE_WORDS)] + ("村" if m % 7 else "社区"),
                         "village", t, "村" if m % 7 else "社区", m + 1))
    conn.executemany("INSERT INTO jurisdiction(code, name, level, parent_code, kind, sort) "
                     "VALUES (?, ?, ?, ?, ?, ?)", rows)
    all_villages = [v for t in towns for v in villages[t]]
    town_of = {v: t for t in towns for v in villages[t]}

    # -- domains (the 26 pilot domains of the demo)
    domains = json.loads((ROOT / "content/demo_data/domains.json").read_text("utf-8"))
    conn.executemany("INSERT INTO domain(id, name, departments, pilot, sort) VALUES (?, ?, ?, 1, ?)",
                     [(d["id"], d["name"], _dumps(d["departments"]), d["id"]) for d in domains])
    domain_ids = [d["id"] for d in domains]
    departments = {d["id"]: d["departments"][0] for d in domains}

    # -- matters: each published by county, township and village
    columns = ["序号", "姓名", "身份证号", "村民小组", "面积（亩）", "金额（元）"]
    matters = []
    for m in range(sizes["matters"]):
        matters.append((m + 1, f"bench-matter-{m + 1:03d}", f"惠民补贴发放名单（第{m + 1}项）",
                        domain_ids[m % len(domain_ids)], "县、乡、村三级公示的同一名单。",
                        _dumps(["county", "township", "village"]), _dumps(["姓名", "身份证号"]),
                        "信息形成或者变更之日起20个工作日内",
                        _dumps({"count": 20, "unit": "workday"})))
    conn.executemany("INSERT INTO matter(id, key, title, domain_id, description, levels, key_columns,"
                     " time_limit_text, time_limit, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "'published')", matters)

    # -- catalogue items: the county's own, the rest spread over the townships
    publishers = [COUNTY] + towns
    items = []
    for i in range(sizes["items"]):
        code = COUNTY if i % 20 == 0 else towns[i % len(towns)]
        dom = domain_ids[i % len(domain_ids)]
        matter = matters[i % len(matters)][0] if i < len(matters) * 2 else None
        items.append((i + 1, code, dom, matter, i // len(domain_ids) + 1,
                      f"{departments[dom][1:]}事项{i // 50 + 1}", f"二级事项{i + 1}",
                      "办理依据、办理条件、申请材料、办理程序、办理时限、收费标准；办理结果",
                      "《中华人民共和国政府信息公开条例》", "信息形成或者变更之日起20个工作日内",
                      _dumps({"count": 20, "unit": "workday"}),
                      departments[dom] if code == COUNTY else "乡镇人民政府",
                      _dumps(rng.sample(CHANNELS, 3)), "全社会", "主动",
                      _dumps(["县级"] if code == COUNTY else ["乡级"]), stamp, stamp))
    conn.executemany(
        "INSERT INTO catalogue_item(id, jurisdiction_code, domain_id, matter_id, seq, level1, level2,"
        " content_elements, basis, time_limit_text, time_limit, publisher, channels, audience, mode,"
        " levels, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, 'published', ?, ?)", items)

    # -- village-affairs lists; the first few items of each village name a matter
    vitems = []
    vitem_of = {}
    for v in all_villages:
        for k in range(sizes["village_items"]):
            vid = len(vitems) + 1
            matter = matters[(k + int(v[-3:])) % len(matters)][0] if k < 3 else None
            if matter:
                vitem_of[(v, matter)] = vid
            vitems.append((vid, v, VILLAGE_CATEGORIES[k % len(VILLAGE_CATEGORIES)],
                           f"村务公开事项{k + 1}", "公开内容：名单、标准、金额。",
                           "每季度公开一次", _dumps({"count": 3, "unit": "month"}), "每季度",
                           "村民委员会", _dumps(["村务公开栏", "电子公示屏"]), matter, k + 1))
    conn.executemany(
        "INSERT INTO village_item(id, jurisdiction_code, category, title, content, time_limit_text,"
        " time_limit, frequency, responsible, channels, matter_id, seq, status) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published')", vitems)

    # -- notices: matter lists at three levels (rows mostly agreeing), then everything else
    notices = []

    def add(code, subject, title, rows, *, matter=None, item=None, vitem=None, days_ago=0,
            period=7, kind="公示", priority="普通", dom=None):
        published = today - timedelta(days=days_ago)
        fields = {"发放户数": f"{len(rows)}户",
                  "发放总额": f"{sum(float(r[5]) for r in rows):,.2f}元"} if rows else {}
        notices.append((len(notices) + 1, code, subject, dom, item, vitem, matter, kind, title,
                        "经审核，现予以公示。公示期内如有异议，请向公开主体反映。" * 3,
                        "", _dumps(fields), _dumps(columns if rows else []), _dumps(rows),
                        published.isoformat(), published.isoformat() + "T01:30:00Z",
                        published.isoformat(), (published + timedelta(days=period)).isoformat(),
                        None, priority))

    people = {v: [[str(n + 1), _person(rng), _id_number(rng), rng.choice(GROUPS),
                   f"{rng.uniform(1, 15):.2f}", f"{rng.uniform(100, 1600):.2f}"]
                  for n in range(rng.randint(8, 20))] for v in all_villages}
    for mid, *_ in matters:
        age = rng.randint(0, 30)
        for v in all_villages:
            rows = people[v]
            vrows = [list(r) for r in rows]
            if rng.random() < 0.1:  # a village that copied one amount wrongly
                vrows[0][5] = f"{float(vrows[0][5]) + 10:.2f}"
            add(v, v, f"第{mid}项补贴发放名单公示", vrows, matter=mid, vitem=vitem_of.get((v, mid)),
                days_ago=age)
            add(town_of[v], v, f"第{mid}项补贴发放名单公示（乡级）", rows, matter=mid,
                days_ago=age + 1)
        add(COUNTY, COUNTY, f"第{mid}项补贴资金分配公告", [], matter=mid, kind="公告",
            days_ago=age + 2)
    item_ids = [it[0] for it in items]
    while len(notices) < sizes["notices"]:
        code = rng.choice(publishers) if rng.random() < 0.3 else rng.choice(all_villages)
        rows = people[code][:rng.randint(3, 12)] if code in people else []
        add(code, code, f"{rng.choice(['低保', '医保', '项目', '财务', '危房改造'])}"
                        f"{rng.choice(KINDS)}（{len(notices) + 1}）", rows,
            item=rng.choice(item_ids) if code not in people and rng.random() < 0.5 else None,
            days_ago=rng.randint(0, 3 * 365), period=rng.choice([5, 7, 15, 30]),
            kind=rng.choice(KINDS), priority="重要" if rng.random() < 0.02 else "普通",
            dom=rng.choice(domain_ids))
    conn.executemany(
        "INSERT INTO notice(id, jurisdiction_code, subject_code, domain_id, item_id, village_item_id,"
        " matter_id, kind, title, body, publisher, fields, table_columns, table_rows, formed_on,"
        " published_at, period_start, period_end, expires_on, priority, status) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published')", notices)

    # -- guides and a few handbooks
    guides = []
    for g in range(sizes["guides"]):
        code = COUNTY if g % 4 == 0 else towns[g % len(towns)]
        dom = domain_ids[g % len(domain_ids)]
        guides.append((g + 1, code, dom, item_ids[g % len(item_ids)], f"办事指南{g + 1}",
                       "符合条件的群众可以申请。", "持有本县户籍。",
                       _dumps([{"name": f"材料{k + 1}", "spec": "原件", "copies": "1份", "note": ""}
                               for k in range(4)]),
                       _dumps(["提出申请", "受理审核", "办结送达"]), "便民服务中心窗口",
                       "淮川县政务服务中心", "周一至周五 8:30—17:30", "0554-4800000", "不收费",
                       "20个工作日", "《中华人民共和国政府信息公开条例》",
                       f"https://zwfw.huaichuan.example/guide/{g + 1}"))
    conn.executemany(
        "INSERT INTO guide(id, jurisdiction_code, domain_id, item_id, title, summary, conditions,"
        " materials, steps, office, address, hours, phone, fee, time_limit_text, basis, online_url,"
        " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published')", guides)
    for h in range(min(20, len(guides))):
        conn.execute("INSERT INTO handbook(id, jurisdiction_code, title, status) "
                     "VALUES (?, ?, ?, 'published')", (h + 1, COUNTY, f"一件事{h + 1}"))
        conn.executemany("INSERT INTO handbook_guide(handbook_id, guide_id, sort) VALUES (?, ?, ?)",
                         [(h + 1, guides[(h * 5 + k) % len(guides)][0], k) for k in range(5)])
    # -- noticeboards: a township's and three village squares' (what the bench polls). Not
    # the county hall's: over a whole county's live notices a board renders thousands of
    # slides on every poll (docs/benchmarks.md).
    boards = [("township-1", f"{TOWN_NAMES[0]}乡公示栏", towns[0], [])]
    boards += [(f"village-{k + 1}", f"村务公开栏{k + 1}", all_villages[k * 7 % len(all_villages)], [])
               for k in range(3)]
    conn.executemany("INSERT INTO board(slug, name, jurisdiction_code, levels, slide_seconds, "
                     "poll_seconds, sort) VALUES (?, ?, ?, ?, 15, 30, ?)",
                     [(slug, name, code, _dumps(levels), n) for n, (slug, name, code, levels)
                      in enumerate(boards)])
    counts = {"townships": len(towns), "villages": len(all_villages), "catalogue_items": len(items),
              "village_items": len(vitems), "notices": len(notices), "guides": len(guides),
              "matters": len(matters), "boards": len(boards)}
    # A year of staff-side history: accounts, revisions, audit, terminals, usage.
    counts.update(add_history(conn, rng, today, COUNTY, towns, villages, sizes["villages"] / FULL["villages"]))
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20201)
    args = parser.parse_args(argv)
    print(generate(args.data_dir, args.scale, args.seed))


if __name__ == "__main__":
    main()
