"""Figure checks (content.figures): totals, 数量 × 标准 = 金额, declared counts; silent when unsure."""
from __future__ import annotations

from decimal import Decimal

import pytest

from content import figures

FARM = ["序号", "姓名", "补贴面积（亩）", "补贴标准（元/亩）", "补贴金额（元）"]
ELDER = ["姓名", "年龄（周岁）", "发放标准（元/月）", "发放月数", "发放金额（元）"]


def notice(columns=(), rows=(), fields=None) -> dict:
    return {"table_columns": list(columns), "table_rows": [list(r) for r in rows], "fields": fields or {}}


def wheres(data) -> list[str]:
    return [f.where for f in figures.check("notice", data)]


# (case, notice, places that must be reported)
CASES = [
    ("farm list adds up",
     notice(FARM, [["1", "李*山", "6.50", "105.00", "682.50"], ["2", "王*明", "10.00", "105.00", "1,050.00"],
                   ["合计", "", "16.50", "", "1,732.50"]],
            {"补贴标准": "每亩105元", "发放户数": "2户", "补贴面积合计": "16.50亩", "发放总额": "1,732.50元"}), []),
    ("亩 × 元/亩 ≠ 元 (the old demo's 10.00亩 × 105 = 1,005)",
     notice(FARM, [["1", "王*明", "10.00", "105.00", "1,005.00"]]), ["表格第1行「补贴金额（元）」列"]),
    ("total row short by 100",
     notice(["项目", "金额（元）"], [["办公", "620.00"], ["路灯", "1,860.00"], ["防汛", "1,600.00"],
                                   ["合计", "3,980.00"]]), ["表格第4行「金额（元）」列（合计）"]),
    ("total field ≠ column (the old demo's 高龄津贴 1,950 for 2,250)",
     notice(ELDER, [["孙*英", "81", "50.00", "3", "150.00"], ["杨*清", "92", "100.00", "3", "300.00"]] * 5,
            {"发放人数": "10人", "发放总额": "1,950元"}), ["关键数据「发放总额」"]),
    ("元/月 × 月数 ≠ 金额",
     notice(ELDER, [["孙*英", "81", "50.00", "3", "160.00"]]), ["表格第1行「发放金额（元）」列"]),
    ("declared count ≠ rows",
     notice(["姓名", "金额（元）"], [["甲", "1"], ["乙", "2"]], {"发放人数": "3人"}), ["关键数据「发放人数」"]),
    ("declared 人数 ≠ the 人数 column's sum (households with several people)",
     notice(["户主", "保障人数（人）", "金额（元）"], [["甲", "2", "10"], ["乙", "3", "10"]], {"保障人数": "4人"}),
     ["关键数据「保障人数」"]),
    ("declared 人数 = the 人数 column's sum", notice(["户主", "保障人数（人）"], [["甲", "2"], ["乙", "3"]],
                                                {"保障人数": "5人"}), []),
    ("rate from key data", notice(["姓名", "面积（亩）", "金额（元）"], [["甲", "2.00", "220.00"]],
                                  {"补贴标准": "每亩105元"}), ["表格第1行「金额（元）」列"]),
    ("rate from key data, right", notice(["姓名", "面积（亩）", "金额（元）"], [["甲", "2.00", "210.00"]],
                                         {"补贴标准": "105元/亩"}), []),
    ("two rates in key data: no guess", notice(["姓名", "面积（亩）", "金额（元）"], [["甲", "2.00", "999"]],
                                               {"标准": "每亩105元，每亩110元"}), []),
    ("小计 per block, 合计 over all rows",
     notice(["项目", "金额（元）"], [["a", "1"], ["b", "2"], ["小计", "3"], ["c", "4"], ["小计", "5"],
                                   ["合计", "7"]]), ["表格第5行「金额（元）」列（小计）"]),
    ("万元 column and 万元 total", notice(["项目", "资金规模（万元）"], [["a", "100"], ["b", "86"]],
                                          {"资金规模合计": "186万元"}), []),
    ("万元 total wrong", notice(["项目", "资金规模（万元）"], [["a", "100"], ["b", "86"]],
                                {"资金规模合计": "196万元"}), ["关键数据「资金规模合计」"]),
    ("rounding to the cent is fine", notice(FARM, [["1", "甲", "3.333", "105.00", "349.97"]]), []),
    ("ages and 序号 are never summed",
     notice(["序号", "姓名", "年龄（周岁）"], [["1", "甲", "80"], ["2", "乙", "90"], ["合计", "", "99"]]), []),
    ("a percent column is not an amount", notice(["项目", "累计完成（万元）", "同比增长"],
                                                 [["收入", "68,420", "3.2%"]]), []),
    ("text cells are skipped", notice(FARM, [["1", "甲", "待核实", "105.00", "100.00"]]), []),
    ("no table, no alarm", notice(fields={"发放总额": "1,000元"}), []),
    ("以下空白 and notes are neither rows nor totals",
     notice(["姓名", "金额（元）"], [["甲", "1"], ["乙", "2"], ["以下空白", ""], ["注：金额含补发", ""]],
            {"发放人数": "2人", "发放总额": "3元"}), []),
    ("households counted over rows of people: no guess",
     notice(["户主", "姓名", "与户主关系"], [["甲", "甲", "本人"], ["甲", "甲妻", "配偶"]], {"发放户数": "1户"}), []),
]


@pytest.mark.parametrize("case, data, expected", CASES, ids=[c[0] for c in CASES])
def test_figure_checks(case, data, expected):
    assert wheres(data) == expected


def test_messages_give_the_figures():
    (f,) = figures.check("notice", notice(FARM, [["1", "王*明", "10.00", "105.00", "1,005.00"]]))
    assert f.message == "10亩 × 105元/亩 = 1,050元，表中写的是 1,005元"
    assert (f.row, f.column) == (0, "补贴金额（元）")


def test_numbers_as_written():
    assert figures.number("1,050.00") == Decimal("1050.00")
    assert figures.number("7,770元") == Decimal("7770")
    assert figures.number("1.2万元") == Decimal("12000.0")
    assert figures.number(12) == Decimal("12")
    assert figures.number("待核实") is None and figures.number(None) is None
    assert figures.column_unit("补贴标准（元/亩）") == "元/亩"
    assert figures.column_unit("发放月数") == "月"


def test_other_nouns_have_no_figures():
    assert figures.check("guide", {"table_rows": [["合计", "1"]]}) == []
