"""Helpers for tests of a real county: made through `kiosk init --county` and the CLI only."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kiosk.cli import main

COUNTY, TOWNSHIP, VILLAGE, OTHER_VILLAGE = "340421000000", "340421100000", "340421100201", "340421100202"
HILL_TOWNSHIP, HILL_VILLAGE = "340421200000", "340421200201"

DIVISIONS_2024 = """统计用区划代码,城乡分类代码,名称
340421000000,,凤台县
340421001000,,城关街道
340421001001,111,城北社区居民委员会
340421100000,,刘集镇
340421100201,220(村庄),刘集村委会
340421100202,220,新集村委会
340421100203,220,老庄村委会
340421200000,,大山乡
340421200201,220(村庄),大山村民委员会
"""


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def make_county(path: Path, divisions: str | None = DIVISIONS_2024, public_url: str | None = None):
    """A hub for 凤台县 with its divisions; returns the admin's one-time password."""
    args = ["init", "--role", "hub", "--data-dir", path, "--county", "340421",
            "--county-name", "凤台县", "--admin", "xian-admin"]
    if public_url:
        args += ["--public-url", public_url]
    r = cli(*args)
    assert r.exit_code == 0, r.output
    if divisions:
        f = path.parent / f"{path.name}-divisions.csv"
        f.write_text(divisions, encoding="utf-8")
        r = cli("import-divisions", f, "--data-dir", path)
        assert r.exit_code == 0, r.output
    return r.output if not divisions else None


def xlsx_bytes(rows, title_row: list | None = None) -> bytes:
    """A one-sheet workbook of ``rows`` (an optional title row above them), as counties send."""
    from io import BytesIO

    import openpyxl
    book = openpyxl.Workbook()
    if title_row:
        book.active.append(title_row)
    for row in rows:
        book.active.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
