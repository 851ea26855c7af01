"""What a revision changes (content.changes): fields, key data, rows matched by who they are."""
from __future__ import annotations

from content import changes

COLS = ["序号", "姓名", "身份证号", "金额（元）"]
ROWS = [["1", "张*三", "3404**********1111", "100"], ["2", "李*四", "3404**********2222", "200"],
        ["3", "王*五", "3404**********3333", "300"]]


def test_a_row_inserted_in_the_middle_is_one_added_row():
    new = [ROWS[0], ["2", "赵*六", "3404**********4444", "50"], ["3", *ROWS[1][1:]], ["4", *ROWS[2][1:]]]
    t = changes.compare_tables(COLS, ROWS, COLS, new)
    assert [r.state for r in t.rows] == ["same", "added", "changed", "changed"]
    assert t.counts == {"changed": 2, "added": 1, "removed": 0}
    # Only the renumbered 序号 changed in the rows below.
    assert [c.changed for c in t.rows[2].cells] == [True, False, False, False]


def test_changed_cell_removed_row_and_new_column():
    new_cols = COLS + ["备注"]
    new = [["1", "张*三", "3404**********1111", "150", ""], ["3", "王*五", "3404**********3333", "300", "补发"]]
    t = changes.compare_tables(COLS, ROWS, new_cols, new)
    assert t.columns[-1] == ("备注", "added")
    states = {r.cells[1].value: r.state for r in t.rows}
    assert states == {"张*三": "changed", "李*四": "removed", "王*五": "changed"}
    cell = t.rows[0].cells[3]
    assert (cell.before, cell.value, cell.changed) == ("100", "150", True)


def test_fields_and_key_data():
    before = {"title": "旧标题", "body": "正文", "fields": {"发放总额": "600元", "发放户数": "3户"},
              "table_columns": COLS, "table_rows": ROWS}
    after = dict(before, title="新标题", fields={"发放总额": "650元", "补贴标准": "每亩105元"})
    c = changes.compare(before, after)
    assert c.fields == [("title", "旧标题", "新标题")]
    assert c.key_data == [("发放总额", "600元", "650元", "changed"), ("补贴标准", None, "每亩105元", "added"),
                          ("发放户数", "3户", None, "removed")]
    assert c.changed_names == {"title", "fields"} and not c.empty


def test_nothing_changed_and_first_publication():
    d = {"title": "标题", "body": "", "table_columns": COLS, "table_rows": ROWS}
    assert changes.compare(d, dict(d)).empty
    first = changes.compare(None, d)
    assert first.first and [n for n, *_ in first.fields] == ["title"]
    assert all(r.state == "added" for r in first.table.rows)
