"""`kiosk holidays`: enter and show the State Council's annual holiday schedule (content.holidays)."""
from __future__ import annotations

import sys
from datetime import date

import click

from content import holidays

from .cli import _open_instance_db, data_dir_option


@click.group("holidays")
def holidays_group():
    """Holiday calendar: 放假 days and 调休 working days per year."""


@holidays_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@data_dir_option
@click.option("--year", type=click.IntRange(1990, 2200),
              help="The schedule's year (default: the year most of its days fall in).")
@click.option("--source", default="", help="Where it comes from, e.g. 国办发明电〔2026〕7号.")
def holidays_import(file, data_dir, year, source):
    """Enter a year's schedule from FILE (.csv, .xlsx, .txt; '-' reads standard input), replacing it.

    Lines: DATE[..DATE], 休|班, NAME; or the notice's own numbered lines with --year."""
    conn = _open_instance_db(data_dir)
    try:
        if file == "-":
            rows = holidays.rows_from_text(sys.stdin.read())
        else:
            try:
                rows = holidays.read_path(file)
            except OSError as e:
                raise click.ClickException(f"无法读取文件 {file}：{e.strerror}") from e
        schedule, moved = holidays.import_schedule(conn, rows, year=year, source=source,
                                                   username="kiosk holidays import")
    except holidays.CalendarError as e:
        raise click.ClickException("节假日安排被拒绝，未写入任何内容：\n" + "\n".join(e.errors)) from e
    finally:
        conn.close()
    click.echo(f"已录入 {schedule.summary()}")
    if moved:
        click.echo(f"已按新的安排重新计算 {moved} 件办理中申请的答复期限")


@holidays_group.command("show")
@click.argument("year", type=click.IntRange(1990, 2200), required=False)
@data_dir_option
def holidays_show(year, data_dir):
    """Show a year's schedule (default: every year entered, and whether next year is missing)."""
    conn = _open_instance_db(data_dir)
    try:
        if year is None:
            for r in holidays.entered_years(conn):
                click.echo(f"{r['year']}  放假 {r['off'] or 0} 天  调休上班 {r['work'] or 0} 天  "
                           f"{r['source']}  （录入于 {r['updated_at']}）")
            upcoming = date.today().year + 1
            click.echo(f"{upcoming}年：{holidays.STATUS_NAMES[holidays.year_status(conn, upcoming)]}")
            return
        status = holidays.year_status(conn, year)
        click.echo(f"{year}年：{holidays.STATUS_NAMES[status]}")
        for d in holidays.days_of(conn, year):
            kind = holidays.KIND_NAMES[d["kind"]]
            click.echo(f"{d['day'].isoformat()}  {d['weekday']}  {kind}  {d['name']}")
    finally:
        conn.close()


@holidays_group.command("delete")
@click.argument("year", type=click.IntRange(1990, 2200))
@data_dir_option
def holidays_delete(year, data_dir):
    """Forget a year's entered schedule (the built-in calendar, else Monday to Friday, applies)."""
    conn = _open_instance_db(data_dir)
    try:
        holidays.remove_year(conn, year, username="kiosk holidays delete")
    except holidays.CalendarError as e:
        raise click.ClickException("；".join(e.errors)) from e
    finally:
        conn.close()
    click.echo(f"已删除{year}年的节假日安排")
