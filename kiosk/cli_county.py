"""`kiosk init --county …` (a real county from zero) and `kiosk import-divisions`."""
from __future__ import annotations

from pathlib import Path

import click

from content import db

from . import config

COUNTY_ROLES = ("hub", "standalone")


def check_county_options(role: str, demo: bool, county: str | None, county_name: str | None,
                         admin: str | None, public_url: str | None) -> dict | None:
    """The checked county settings for `kiosk init`, None when no county was asked for.
    Everything is checked before anything is written."""
    from content import users  # noqa: PLC0415
    from content.county import CountyError, county_code  # noqa: PLC0415
    from content.public_url import check_public_url  # noqa: PLC0415
    given = {"--county": county, "--county-name": county_name, "--admin": admin}
    if not any(given.values()):
        if public_url:
            raise click.UsageError("--public-url 需要与 --county、--county-name、--admin 一起使用")
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise click.UsageError("创建县还需要 " + "、".join(missing))
    if demo:
        raise click.UsageError("--demo（示例县）不能与 --county 同时使用")
    if role not in COUNTY_ROLES:
        raise click.UsageError("--county 只用于县级平台（--role hub）或单机（--role standalone）")
    try:
        code = county_code(county)
    except CountyError as e:
        raise click.BadParameter(str(e), param_hint="--county") from e
    if not county_name.strip() or len(county_name.strip()) > 40:
        raise click.BadParameter("县名不能为空，最多40个字", param_hint="--county-name")
    try:
        users.check_username(admin)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--admin") from e
    if public_url:
        try:
            public_url = check_public_url(public_url)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--public-url") from e
    return {"code": code, "name": county_name.strip(), "admin": admin, "public_url": public_url}


def create_county(database: Path, settings: dict) -> None:
    """Fill a new instance with the county; the last line printed is the admin's password."""
    from content.county import CountyError, STANDARD_DOMAINS, create_county as make  # noqa: PLC0415
    conn = db.open_database(database)
    try:
        password = make(conn, settings["code"], settings["name"], settings["admin"],
                        settings["public_url"])
    except CountyError as e:
        raise click.ClickException(str(e)) from e
    finally:
        conn.close()
    click.echo(f"已创建县：{settings['name']}（{settings['code']}），标准领域 {len(STANDARD_DOMAINS)} 个")
    if settings["public_url"]:
        click.echo(f"对外网址：{settings['public_url']}")
    else:
        click.echo("尚未设置对外网址：二维码暂不显示，请登录后台在「区划与领域」页填写")
    click.echo(f"县级管理员账号：{settings['admin']}，首次登录须修改密码。一次性密码：")
    click.echo(password)


@click.command("import-divisions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--data-dir", "data_dir", envvar="KIOSK_DATA_DIR", type=click.Path(file_okay=False),
              help="Instance data folder (or $KIOSK_DATA_DIR).")
def import_divisions(file, data_dir):
    """Townships and villages from the statistics bureau's division-code file, all or nothing."""
    from content.divisions import DivisionError, import_divisions as run  # noqa: PLC0415
    try:
        path = config.data_dir_from(data_dir)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    database = path / config.DATABASE_NAME
    if not (path / config.CONFIG_NAME).exists() or not database.exists():
        raise click.ClickException(f"{path} 不是已初始化的实例目录，请先运行 kiosk init")
    conn = db.open_database(database)
    try:
        result = run(conn, file, Path(file).name)
    except DivisionError as e:
        raise click.ClickException(f"导入被拒绝，未写入任何内容（{Path(file).name}）：\n{e}") from e
    finally:
        conn.close()
    click.echo(result.summary())


COMMANDS = (import_divisions,)
