"""Unit tests for content.alignment: 相同事项的公开内容对应一致."""

from dataclasses import replace
from datetime import date

import pytest

from content.alignment import (CONSISTENT, INCONSISTENT, LEVEL_NAMES, LEVELS,
                               MISSING, STALE, Publication, align,
                               differing_cells, differing_fields,
                               differing_rows, normalize_value)
from content.timelimits import add_workdays, parse_time_limit

KEYS = ["姓名", "身份证号"]
COLS = ["姓名", "身份证号", "面积(亩)", "补贴金额(元)"]
ROWS = [
    ["张*三", "3404**********1234", "10", "1050"],
    ["李*四", "3404**********5678", "8.5", "892.5"],
    ["王*五", "3404**********9012", "6", "630"],
]
FIELDS = {"补贴标准": "每亩105元", "发放户数": "3户", "发放总额": "2572.5元"}
TODAY = date(2025, 9, 1)


def pub(level, fields=None, columns=None, rows=None, formed_on=date(2025, 8, 1), **kw):
    """A publication with the shared sample list unless told otherwise."""
    return Publication(
        level=level,
        jurisdiction={"county": "青山县", "township": "东湖镇", "village": "杏花村"}[level],
        notice_id={"county": 1, "township": 2, "village": 3}[level],
        title="耕地地力保护补贴发放名单（示例数据）",
        fields=dict(FIELDS) if fields is None else fields,
        columns=list(COLS) if columns is None else columns,
        rows=[list(r) for r in ROWS] if rows is None else rows,
        formed_on=formed_on,
        published_on=kw.pop("published_on", formed_on),
        **kw,
    )


def two(township, village, today=TODAY, time_limit=None, key_columns=KEYS):
    return align(("township", "village"), key_columns,
                 {"township": township, "village": village}, time_limit, today)


# --- constants ---------------------------------------------------------------

def test_constants():
    assert LEVELS == ("county", "township", "village")
    assert LEVEL_NAMES == {"county": "县级", "township": "乡级", "village": "村级"}
    assert (CONSISTENT, INCONSISTENT, MISSING, STALE) == ("一致", "不一致", "缺失", "过期")


# --- consistent --------------------------------------------------------------

def test_all_same_is_consistent():
    r = align(LEVELS, KEYS, {lv: pub(lv) for lv in LEVELS}, None, TODAY)
    assert r.status == CONSISTENT
    assert [s.status for s in r.sides.values()] == [CONSISTENT] * 3
    assert list(r.sides) == ["county", "township", "village"]
    assert r.field_diffs == [] and r.row_diffs == [] and r.only_fields == []
    assert r.key_columns == ("姓名", "身份证号")
    assert r.summary() == "各级公开内容一致"
    assert differing_cells(r) == set() and differing_fields(r) == set()


def test_sides_are_ordered_county_to_village_whatever_the_input_order():
    r = align(("village", "township"), KEYS,
              {"village": pub("village"), "township": pub("township")}, None, TODAY)
    assert list(r.sides) == ["township", "village"]


# --- fields ------------------------------------------------------------------

def test_one_differing_field():
    v = pub("village", fields={**FIELDS, "补贴标准": "每亩100元"})
    r = two(pub("township"), v)
    assert r.status == INCONSISTENT
    assert len(r.field_diffs) == 1
    d = r.field_diffs[0]
    assert d.name == "补贴标准"
    assert d.values == {"township": "每亩105元", "village": "每亩100元"}
    assert r.sides["township"].status == INCONSISTENT
    assert r.sides["village"].status == INCONSISTENT
    assert differing_fields(r) == {("township", "补贴标准"), ("village", "补贴标准")}
    assert r.row_diffs == []
    assert r.summary() == "乡级与村级在 1 个字段上不一致"


def test_numbers_equal_in_different_formats_are_not_a_difference():
    fields = {
        "county": {"发放总额": "2,572.50元", "补贴标准": "每亩105元"},
        "township": {"发放总额": "2572.5元", "补贴标准": "每亩 105.00 元"},
        "village": {"发放总额": "２５７２．５ 元", "补贴标准": "每亩１０５元"},
    }
    r = align(LEVELS, KEYS, {lv: pub(lv, fields=fields[lv]) for lv in LEVELS}, None, TODAY)
    assert r.field_diffs == []
    assert r.status == CONSISTENT


def test_same_number_with_other_unit_is_a_difference():
    r = two(pub("township", fields={"面积": "1050亩"}), pub("village", fields={"面积": "1050元"}))
    assert r.status == INCONSISTENT
    assert [d.name for d in r.field_diffs] == ["面积"]


def test_different_numbers_are_a_difference():
    r = two(pub("township", fields={"发放总额": "1,050.00元"}),
            pub("village", fields={"发放总额": "1,050.01元"}))
    assert r.status == INCONSISTENT


@pytest.mark.parametrize("a, b, equal", [
    ("1,050.00元", "1050元", True),
    ("1050.0 元", "1050元", True),
    ("１０５０元", "1050元", True),
    ("1050元", "1050亩", False),
    ("1050", "1050元", False),
    ("3404**********1234", "3404**********1234", True),
    ("3404**********1234", "3404**********1235", False),
    ("0554-1234567", "554-1234567", False),
    ("张 * 三", "张*三", True),
])
def test_normalize_value(a, b, equal):
    assert (normalize_value(a) == normalize_value(b)) is equal


def test_field_on_one_side_only_is_informational():
    t = pub("township", fields={**FIELDS, "监督电话": "0554-1234567"})
    r = two(t, pub("village"))
    assert r.status == CONSISTENT
    assert [(o.name, o.level, o.value) for o in r.only_fields] == [
        ("监督电话", "township", "0554-1234567")]
    assert r.summary() == "各级公开内容一致"


def test_field_names_match_after_normalisation():
    r = two(pub("township", fields={"补贴标准": "每亩105元"}),
            pub("village", fields={"补贴 标准：": "每亩106元"}))
    assert [d.values for d in r.field_diffs] == [
        {"township": "每亩105元", "village": "每亩106元"}]
    # Highlights use each side's own spelling of the name.
    assert differing_fields(r) == {("township", "补贴标准"), ("village", "补贴 标准：")}
    assert r.only_fields == []


# --- table rows --------------------------------------------------------------

def test_differing_row_amount():
    rows = [list(r) for r in ROWS]
    rows[1][3] = "829.5"
    r = two(pub("township"), pub("village", rows=rows))
    assert r.status == INCONSISTENT
    assert len(r.row_diffs) == 1
    d = r.row_diffs[0]
    assert d.kind == "cells"
    assert d.key == ("李*四", "3404**********5678")
    assert d.label == "李*四 3404**********5678"
    assert d.columns == ("补贴金额(元)",)
    assert d.values == {"township": {"补贴金额(元)": "892.5"},
                        "village": {"补贴金额(元)": "829.5"}}
    key = ("李*四", "3404**********5678")
    assert differing_cells(r) == {("township", key, "补贴金额(元)"),
                                  ("village", key, "补贴金额(元)")}
    assert r.summary() == "乡级与村级在 1 行上不一致"


def test_amounts_in_different_formats_are_equal_in_tables():
    rows = [list(r) for r in ROWS]
    rows[0][3] = "1,050.00"
    rows[1][2] = "8.50"
    r = two(pub("township"), pub("village", rows=rows))
    assert r.row_diffs == []
    assert r.status == CONSISTENT


def test_row_only_in_township_list():
    r = two(pub("township"), pub("village", rows=[list(x) for x in ROWS[:2]]))
    assert r.status == INCONSISTENT
    assert len(r.row_diffs) == 1
    d = r.row_diffs[0]
    assert d.kind == "only_in"
    assert d.key == ("王*五", "3404**********9012")
    assert d.levels == ("township",)
    assert d.missing_from == ("village",)
    assert d.values["township"]["补贴金额(元)"] == "630"
    key = ("王*五", "3404**********9012")
    assert differing_cells(r) == {("township", key, c) for c in COLS}
    assert differing_rows(r) == {("township", key)}
    # The village lacks a row: it takes part in the difference too.
    assert r.sides["village"].status == INCONSISTENT


def test_rows_match_by_key_not_by_position():
    r = two(pub("township"), pub("village", rows=[list(x) for x in reversed(ROWS)]))
    assert r.row_diffs == []
    assert r.status == CONSISTENT


def test_masked_keys_compared_as_given():
    rows = [list(r) for r in ROWS]
    rows[0][1] = "340421199001011234"  # unmasked on one side: not the same key
    r = two(pub("township"), pub("village", rows=rows))
    kinds = sorted((d.kind, d.levels) for d in r.row_diffs)
    assert kinds == [("only_in", ("township",)), ("only_in", ("village",))]


def test_only_shared_columns_are_compared():
    village_cols = ["姓名", "身份证号", "补贴金额(元)"]
    village_rows = [[r[0], r[1], r[3]] for r in ROWS]
    t_rows = [list(r) for r in ROWS]
    t_rows[0][2] = "999"  # area differs, but the village does not publish area
    r = two(pub("township", rows=t_rows), pub("village", columns=village_cols, rows=village_rows))
    assert r.row_diffs == []
    assert r.status == CONSISTENT


def test_headers_match_after_normalisation():
    village_cols = ["姓 名", "身份证号", "面积（亩）", "补贴金额（元）"]
    rows = [list(r) for r in ROWS]
    rows[2][3] = "600"
    r = two(pub("township"), pub("village", columns=village_cols, rows=rows))
    assert len(r.row_diffs) == 1
    key = ("王*五", "3404**********9012")
    # Each level's own header spelling, for highlighting its own table.
    assert differing_cells(r) == {("township", key, "补贴金额(元)"),
                                  ("village", key, "补贴金额（元）")}


def test_empty_tables_on_both_sides_are_consistent():
    r = two(pub("township", rows=[]), pub("village", rows=[]))
    assert r.status == CONSISTENT and r.row_diffs == []


def test_empty_table_against_a_filled_one_lists_the_missing_rows():
    r = two(pub("township"), pub("village", rows=[]))
    assert r.status == INCONSISTENT
    assert [d.kind for d in r.row_diffs] == ["only_in"] * 3
    assert all(d.missing_from == ("village",) for d in r.row_diffs)


def test_table_on_one_side_only_is_not_a_row_diff():
    r = two(pub("township"), pub("village", columns=[], rows=[]))
    assert r.row_diffs == []
    assert r.status == CONSISTENT
    assert r.sides["village"].row_keys == ()


def test_key_column_fallback_to_first_column_when_keys_empty():
    cols = ["户主", "金额"]
    t = pub("township", columns=cols, rows=[["张*三", "100"], ["李*四", "200"]])
    v = pub("village", columns=cols, rows=[["李*四", "200"], ["张*三", "150"]])
    r = two(t, v, key_columns=[])
    assert r.key_columns == ("户主",)
    assert [(d.kind, d.key, d.columns) for d in r.row_diffs] == [("cells", ("张*三",), ("金额",))]


def test_key_column_fallback_when_key_absent_from_a_table():
    t = pub("township", columns=["户主", "金额"], rows=[["张*三", "100"], ["李*四", "200"]])
    v = pub("village", columns=["户主", "金额"], rows=[["李*四", "200"], ["张*三", "100"]])
    r = two(t, v, key_columns=["身份证号"])
    assert r.key_columns == ("户主",)
    assert r.row_diffs == []  # matched by 户主 despite the different order


def test_key_columns_shared_by_all_tables_are_kept():
    # The village omits 身份证号: match on 姓名 alone rather than by position.
    village_cols = ["姓名", "补贴金额(元)"]
    village_rows = [[r[0], r[3]] for r in reversed(ROWS)]
    r = two(pub("township"), pub("village", columns=village_cols, rows=village_rows))
    assert r.key_columns == ("姓名",)
    assert r.row_diffs == []


def test_key_columns_need_not_be_first():
    # The township numbers its rows (序号); the village does not.
    t = pub("township", columns=["序号"] + COLS, rows=[[str(i + 1)] + r for i, r in enumerate(ROWS)])
    v = pub("village", rows=[list(r) for r in reversed(ROWS)])
    r = two(t, v)
    assert r.key_columns == ("姓名", "身份证号")
    assert r.row_diffs == []
    assert r.status == CONSISTENT


def test_duplicate_keys_pair_up_in_order():
    cols = ["姓名", "金额"]
    t = pub("township", columns=cols, rows=[["张*三", "100"], ["张*三", "200"]])
    v = pub("village", columns=cols, rows=[["张*三", "100"], ["张*三", "250"]])
    r = two(t, v, key_columns=["姓名"])
    assert [(d.kind, d.key) for d in r.row_diffs] == [("cells", ("张*三", "#2"))]
    assert r.sides["village"].row_keys == (("张*三",), ("张*三", "#2"))


def test_row_keys_parallel_rows_and_skip_blank_lines():
    rows = [list(ROWS[0]), ["", " ", "", ""], list(ROWS[1]), list(ROWS[2])]
    r = two(pub("township"), pub("village", rows=rows))
    assert r.row_diffs == []
    keys = r.sides["village"].row_keys
    assert len(keys) == 4 and keys[1] is None
    assert keys[0] == ("张*三", "3404**********1234")


def test_short_rows_are_padded():
    rows = [list(r) for r in ROWS]
    rows[2] = rows[2][:3]  # the amount cell is missing
    r = two(pub("township"), pub("village", rows=rows))
    assert [(d.key[0], d.values["village"]) for d in r.row_diffs] == [
        ("王*五", {"补贴金额(元)": ""})]


# --- missing -----------------------------------------------------------------

def test_missing_village_side():
    r = two(pub("township"), None)
    assert r.status == MISSING
    assert r.sides["village"].status == MISSING
    assert r.sides["village"].publication is None
    assert r.sides["township"].status == CONSISTENT
    assert r.summary() == "村级未公开"


def test_missing_when_level_absent_from_mapping():
    r = align(LEVELS, KEYS, {"township": pub("township")}, None, TODAY)
    assert r.status == MISSING
    assert [lv for lv, s in r.sides.items() if s.status == MISSING] == ["county", "village"]
    assert r.summary() == "县级、村级未公开"


def test_unexpected_level_is_compared_but_never_missing():
    v = pub("village", fields={**FIELDS, "补贴标准": "每亩100元"})
    r = align(("village",), KEYS, {"township": pub("township"), "village": v}, None, TODAY)
    assert r.status == INCONSISTENT
    assert list(r.sides) == ["township", "village"]
    r = align(("township", "village"), KEYS,
              {"county": None, "township": pub("township"), "village": pub("village")}, None, TODAY)
    assert r.status == CONSISTENT and "county" not in r.sides


def test_level_mismatch_is_rejected():
    with pytest.raises(ValueError):
        align(("village",), KEYS, {"village": pub("township")}, None, TODAY)


# --- stale -------------------------------------------------------------------
# The township changed the list on Sat 2025-09-20; 20 working days (the
# default) end on 2025-10-23, across the National Day holiday.

NEW = date(2025, 9, 20)
DUE = date(2025, 10, 23)


def _changed_township():
    rows = [list(r) for r in ROWS]
    rows[0][3] = "1100"
    return pub("township", rows=rows, formed_on=NEW)


def test_default_deadline_is_twenty_workdays():
    assert add_workdays(NEW, 20) == DUE


def test_lagging_side_within_time_limit():
    r = two(_changed_township(), pub("village", formed_on=date(2025, 8, 1)), today=DUE)
    assert r.status == INCONSISTENT
    v = r.sides["village"]
    assert v.status == INCONSISTENT
    assert v.within_limit is True and v.stale is False
    assert v.deadline == DUE
    t = r.sides["township"]
    assert t.within_limit is False and t.stale is False and t.deadline is None
    assert r.newest_formed_on == NEW and r.deadline == DUE
    assert r.summary() == "乡级与村级在 1 行上不一致（村级在更新期内，应于2025-10-23前更新）"


def test_lagging_side_past_deadline_is_stale():
    r = two(_changed_township(), pub("village", formed_on=date(2025, 8, 1)),
            today=date(2025, 10, 24))
    assert r.status == STALE
    v = r.sides["village"]
    assert v.status == STALE and v.stale is True and v.within_limit is False
    assert v.deadline == DUE
    assert r.sides["township"].status == INCONSISTENT
    assert r.summary() == ("村级公开内容已过期（应于2025-10-23前更新）；"
                           "乡级与村级在 1 行上不一致")


def test_older_side_is_stale_whichever_level_it_is():
    t = pub("township", formed_on=date(2025, 8, 1))
    rows = [list(r) for r in ROWS]
    rows[0][3] = "1100"
    v = pub("village", rows=rows, formed_on=NEW)
    r = two(t, v, today=date(2025, 12, 1))
    assert r.sides["township"].stale and not r.sides["village"].stale


def test_explicit_time_limit_is_used():
    limit = parse_time_limit("制定或获取信息之日起10个工作日内")
    t = pub("township", fields={**FIELDS, "补贴标准": "每亩110元"}, formed_on=date(2025, 9, 30))
    v = pub("village", formed_on=date(2025, 9, 1))
    # 10 working days after 09-30: 10-09, 10, 11 (swapped Saturday), 13..17, 20, 21.
    r = two(t, v, today=date(2025, 10, 21), time_limit=limit)
    assert r.status == INCONSISTENT and r.sides["village"].deadline == date(2025, 10, 21)
    r = two(t, v, today=date(2025, 10, 22), time_limit=limit)
    assert r.status == STALE
    # With the 20-working-day default the same day is still in time.
    r = two(t, v, today=date(2025, 10, 22), time_limit=None)
    assert r.status == INCONSISTENT


def test_older_side_with_same_content_is_not_stale():
    r = two(pub("township", formed_on=NEW), pub("village", formed_on=date(2025, 1, 2)),
            today=date(2025, 12, 31))
    assert r.status == CONSISTENT
    assert not r.sides["village"].stale and not r.sides["village"].within_limit


def test_older_side_differing_only_from_another_old_side_is_not_stale():
    # County and township are newest and agree; the village is old and agrees
    # with them; only an old field the newest sides do not carry differs.
    c = pub("county", fields={"补贴标准": "每亩105元"}, formed_on=NEW)
    t = pub("township", fields={"补贴标准": "每亩105元", "备注": "甲"}, formed_on=date(2025, 8, 1))
    v = pub("village", fields={"补贴标准": "每亩105元", "备注": "乙"}, formed_on=date(2025, 8, 1))
    r = align(LEVELS, KEYS, {"county": c, "township": t, "village": v}, None, date(2025, 12, 31))
    assert r.status == INCONSISTENT
    assert not any(s.stale for s in r.sides.values())
    assert r.sides["county"].status == CONSISTENT


def test_published_on_stands_in_for_missing_formed_on():
    t = replace(_changed_township(), formed_on=None, published_on=NEW)
    v = pub("village", formed_on=None, published_on=date(2025, 8, 1))
    r = two(t, v, today=date(2025, 10, 24))
    assert r.status == STALE and r.sides["village"].stale


def test_no_dates_no_staleness():
    rows = [list(r) for r in ROWS]
    rows[0][3] = "1100"
    r = two(pub("township", rows=rows, formed_on=None, published_on=None),
            pub("village", formed_on=None, published_on=None), today=date(2030, 1, 1))
    assert r.status == INCONSISTENT and r.deadline is None


# --- precedence --------------------------------------------------------------

def test_precedence_missing_over_stale_over_inconsistent():
    c = None
    t = _changed_township()
    v = pub("village", formed_on=date(2025, 8, 1))
    late = date(2025, 11, 3)
    r = align(LEVELS, KEYS, {"county": c, "township": t, "village": v}, None, late)
    assert r.status == MISSING
    assert r.sides["village"].status == STALE
    assert r.summary() == ("县级未公开；村级公开内容已过期（应于2025-10-23前更新）；"
                           "乡级与村级在 1 行上不一致")

    r = align(("township", "village"), KEYS, {"township": t, "village": v}, None, late)
    assert r.status == STALE

    r = align(("township", "village"), KEYS, {"township": t, "village": v}, None, DUE)
    assert r.status == INCONSISTENT


def test_stale_side_outranks_inconsistent_side_status():
    t = _changed_township()
    v = pub("village", fields={**FIELDS, "补贴标准": "每亩100元"}, formed_on=date(2025, 8, 1))
    r = two(t, v, today=date(2026, 1, 5))
    assert r.sides["village"].status == STALE
    assert r.sides["township"].status == INCONSISTENT
    assert r.summary() == ("村级公开内容已过期（应于2025-10-23前更新）；"
                           "乡级与村级在 1 个字段、1 行上不一致")


# --- three levels ------------------------------------------------------------

def test_three_levels_with_fields_and_rows():
    c = pub("county", fields={"补贴标准": "每亩105元"}, columns=[], rows=[])
    t = pub("township", fields={"补贴标准": "每亩105元", "发放户数": "3户"})
    rows = [list(r) for r in ROWS[:2]]
    rows[0][3] = "1000"
    v = pub("village", fields={"补贴标准": "每亩105元", "发放户数": "2户"}, rows=rows)
    r = align(LEVELS, KEYS, {"county": c, "township": t, "village": v}, None, TODAY)
    assert r.status == INCONSISTENT
    assert [d.name for d in r.field_diffs] == ["发放户数"]
    assert sorted(d.kind for d in r.row_diffs) == ["cells", "only_in"]
    assert r.sides["county"].status == CONSISTENT  # no table, agrees on 补贴标准
    assert r.summary() == "乡级与村级在 1 个字段、2 行上不一致"


def test_column_missing_from_first_table_still_compared_between_others():
    # The county list has no area column; township and village disagree on it.
    c = pub("county", columns=["姓名", "身份证号"], rows=[r[:2] for r in ROWS])
    rows = [list(r) for r in ROWS]
    rows[1][2] = "9"
    r = align(LEVELS, KEYS, {"county": c, "township": pub("township"),
                             "village": pub("village", rows=rows)}, None, TODAY)
    assert [(d.kind, d.columns, d.values) for d in r.row_diffs] == [
        ("cells", ("面积(亩)",), {"township": {"面积(亩)": "8.5"}, "village": {"面积(亩)": "9"}})]
    assert r.row_diffs[0].levels == ("township", "village")
    assert r.sides["county"].status == CONSISTENT
    assert r.summary() == "乡级与村级在 1 行上不一致"


def test_three_way_field_difference_names_all_levels():
    fields = {"county": "每亩105元", "township": "每亩100元", "village": "每亩105元"}
    r = align(LEVELS, KEYS, {lv: pub(lv, fields={"补贴标准": fields[lv]}) for lv in LEVELS},
              None, TODAY)
    assert r.field_diffs[0].values == fields
    assert r.summary() == "县级、乡级与村级在 1 个字段上不一致"
