"""County-scale helpers: the benchmark generator, and batched queries equal to the one-by-one ones."""
from __future__ import annotations

from datetime import date

import pytest

from content import db, jurisdictions, matters, notices
from tests.bench.generate import generate


@pytest.fixture(scope="module")
def small_county(tmp_path_factory):
    path = tmp_path_factory.mktemp("small-county")
    counts = generate(path, scale=0.02, today=date(2024, 6, 3))
    conn = db.connect(path / "kiosk.sqlite3")
    yield counts, conn
    conn.close()


def test_generator_makes_a_consistent_county(small_county):
    counts, conn = small_county
    assert counts["notices"] == 2000 and counts["catalogue_items"] == 400
    assert (counts["townships"], counts["villages"], counts["guides"]) == (1, 8, 40)
    assert conn.execute("SELECT count(*) FROM jurisdiction").fetchone()[0] == 1 + 1 + 8
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.latest_version()
    with_rows = conn.execute("SELECT count(*) FROM notice WHERE table_rows != '[]'").fetchone()[0]
    assert with_rows > counts["notices"] // 2


def test_generator_is_deterministic(tmp_path, small_county):
    _, conn = small_county
    generate(tmp_path / "again", scale=0.02, today=date(2024, 6, 3))
    other = db.connect(tmp_path / "again" / "kiosk.sqlite3")
    query = "SELECT id, title, table_rows FROM notice ORDER BY id"
    assert other.execute(query).fetchall() == conn.execute(query).fetchall()
    other.close()


def _one_by_one(conn, matter, code, today):
    return matters.align_for_village(conn, matter, code, today)


@pytest.mark.parametrize("which", ["demo", "generated"])
def test_batched_alignment_equals_one_query_per_level(which, small_county, conn):
    c = small_county[1] if which == "generated" else conn
    today = date(2024, 6, 3) if which == "generated" else date.today()
    villages = [r["code"] for r in c.execute("SELECT code FROM jurisdiction WHERE level='village'")]
    compared = 0
    for code in villages:
        for matter, result in matters.village_overview(c, code, today):
            assert result == _one_by_one(c, matter, code, today)
            compared += 1
    for matter in matters.list_matters(c):
        all_codes = jurisdictions.visible_codes(c, None)
        for village, result in matters.matter_villages(c, matter, all_codes, today):
            assert result == _one_by_one(c, matter, village["code"], today)
            compared += 1
    assert compared > 10


def test_related_notices_filter_in_sql(conn):
    today = date.today()
    codes = jurisdictions.visible_codes(conn, None)
    everything = notices.list_notices(conn, codes, today, limit=10_000)
    item_ids = {n["item_id"] for n in everything if n["item_id"]}
    assert item_ids
    for item_id in item_ids:
        assert notices.list_notices(conn, codes, today, item_id=item_id) == [
            n for n in everything if n["item_id"] == item_id]
