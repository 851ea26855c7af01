"""The `kiosk` console command: one program, three roles (standalone, hub, terminal)."""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from content import db

from . import config

DEMO_DIR = "data/demo"


def _data_dir(value: str | None) -> Path:
    try:
        return config.data_dir_from(value)
    except ValueError as e:
        raise click.UsageError(str(e)) from e


data_dir_option = click.option(
    "--data-dir", "data_dir", envvar="KIOSK_DATA_DIR", type=click.Path(file_okay=False),
    help="Instance data folder (or $KIOSK_DATA_DIR).")


class _Commands(click.Group):
    """The command group; a database this program cannot run on is a message, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except db.MigrationError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kiosk-disclosure")
def main():
    """基层政务公开 kiosk and noticeboard: standalone, hub or terminal."""


def _has_content(path: Path) -> bool:
    if not path.exists():
        return False
    conn = db.open_database(path)
    try:
        return conn.execute("SELECT count(*) FROM jurisdiction").fetchone()[0] > 0
    finally:
        conn.close()


def create_instance(data_dir: Path, role: str, demo: bool = False, **settings) -> Path:
    """Make a data folder with its config, database (migrated) and secret; fill the demo if asked."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = {"role": role, **settings}
    config.write_instance_config(data_dir, settings)
    config.secret_key(data_dir)
    database = data_dir / config.DATABASE_NAME
    conn = db.open_database(database)
    try:
        db.set_meta(conn, "role", role)
        if demo and conn.execute("SELECT count(*) FROM jurisdiction").fetchone()[0] == 0:
            from content.demo import build_demo
            build_demo(conn)
            db.set_meta(conn, "content_version", "1")
            db.set_meta(conn, "content_updated",
                        datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"))
    finally:
        conn.close()
    if demo:   # ready at once for the demo; other instances build it when first served
        from .pinyin_table import FILE_NAME, build
        build(data_dir / FILE_NAME)
    return database


@main.command()
@click.option("--role", type=click.Choice(config.ROLES), required=True)
@data_dir_option
@click.option("--demo", is_flag=True, help="Fill the instance with the demo county (示例数据).")
@click.option("--hub", "hub_url", help="(terminal) the hub's base URL.")
@click.option("--scope", help="Jurisdiction code (12 digits) this instance serves.")
@click.option("--trust", multiple=True, help="(terminal) hub public key, base64; may repeat.")
@click.option("--enroll", "enroll_token", help="(terminal) one-time enrolment token from the hub.")
@click.option("--insecure-http", is_flag=True,
              help="(terminal) allow a plain http:// hub that is not on this machine.")
@click.option("--county", help="A real county: its code (6 or 12 digits).")
@click.option("--county-name", help="The county's name, e.g. 某某县.")
@click.option("--admin", help="User name of the first county administrator.")
@click.option("--public-url", help="The county's public address for QR codes (https://…).")
def init(role, data_dir, demo, hub_url, scope, trust, enroll_token, insecure_http, county, county_name,
         admin, public_url):
    """Create an instance in the data folder (a real county with --county …)."""
    path = _data_dir(data_dir)
    if (path / config.CONFIG_NAME).exists():
        raise click.ClickException(f"{path} 已经初始化过（存在 {config.CONFIG_NAME}），未做任何修改")
    from .cli_county import check_county_options, create_county  # noqa: PLC0415
    new_county = check_county_options(role, demo, county, county_name, admin, public_url)
    if scope is not None and not (len(scope) == 12 and scope.isdigit()):
        raise click.BadParameter("行政区划代码应为12位数字", param_hint="--scope")
    if role == "terminal":
        missing = [n for n, v in (("--hub", hub_url), ("--scope", scope), ("--trust", trust),
                                  ("--enroll", enroll_token)) if not v]
        if missing:
            raise click.UsageError("终端需要 " + "、".join(missing))
    if hub_url:
        from sync.hub_url import HubURLError, check_hub_url  # noqa: PLC0415
        try:
            hub_url = check_hub_url(hub_url, insecure_http)
        except HubURLError as e:
            raise click.BadParameter(str(e), param_hint="--hub") from e
    for key in trust:   # checked before anything is written
        from sync.bundle import load_public_b64  # noqa: PLC0415
        try:
            load_public_b64(key)
        except ValueError as e:
            raise click.BadParameter(
                f"{e}：{key[:60]!r}（应为县级平台 kiosk keygen 最后一行打印的公钥）/ not a hub public "
                "key: expected base64 of 32 raw Ed25519 bytes, the last line of `kiosk keygen`",
                param_hint="--trust") from e
    database = create_instance(path, role, demo=demo, scope=scope, hub_url=hub_url,
                               trusted_keys=list(trust) or None, insecure_http=insecure_http or None)
    if role == "terminal":
        from sync.terminal import init_terminal  # noqa: PLC0415  (sync is optional at init)
        init_terminal(path, enroll_token)
    click.echo(f"已创建 {role} 实例：{path}")
    if new_county:
        create_county(database, new_county)     # its last line: the admin's one-time password


def proxy_options(trusted_proxy: str | None) -> dict:
    """Waitress settings for a reverse proxy at ``trusted_proxy`` (none: no proxy)."""
    if not trusted_proxy:
        return {}
    # Behind nginx: take the client's address and scheme from the proxy's headers
    # (rate limits and logs see residents, not 127.0.0.1; a TLS request is known to be
    # one, so its cookies are Secure); drop them from anyone else.
    return {"trusted_proxy": trusted_proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": "x-forwarded-for x-forwarded-host x-forwarded-proto",
            "clear_untrusted_proxy_headers": True}


def _serve(app, host: str, port: int, threads: int = 8, trusted_proxy: str | None = None) -> None:
    from waitress import serve
    import logging
    if not logging.getLogger().handlers:
        # To standard error, which systemd puts in the journal (with its own timestamps).
        logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    serve(app, host=host, port=port, threads=threads, ident="kiosk", **proxy_options(trusted_proxy))


@main.command()
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data-dir", "data_dir", envvar="KIOSK_DATA_DIR", type=click.Path(file_okay=False),
              default=DEMO_DIR, show_default=True, help="Where the demo county lives.")
def demo(port, host, data_dir):
    """Create the demo county (if absent) and serve it standalone."""
    path = Path(data_dir).expanduser().resolve()
    if not _has_content(path / config.DATABASE_NAME):
        click.echo(f"正在创建示例县：{path}")
        if (path / config.CONFIG_NAME).exists():
            create_instance(path, config.read_instance_config(path).get("ROLE", "standalone"), demo=True)
        else:
            create_instance(path, "standalone", demo=True)
        from content.demo_activity import add_to_instance  # sample views, ratings, applications
        add_to_instance(path / config.DATABASE_NAME)
    from content.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    from . import create_app
    app = create_app({"DATA_DIR": str(path)})
    base = f"http://{host}:{port}"
    click.echo("示例县已就绪（示例数据） / demo county ready")
    click.echo(f"  触摸屏 kiosk:      {base}/")
    click.echo(f"  公示栏 boards:     {base}/display/")
    click.echo(f"  后台 admin:        {base}/admin/login")
    click.echo("  演示账号 accounts (password: %s):" % DEMO_PASSWORD)
    for username, role, code, name in DEMO_ACCOUNTS:
        click.echo(f"    {username:20s} {name}")
    sys.stdout.flush()
    _serve(app, host, port)


@main.command()
@data_dir_option
@click.option("--config", "config_file", envvar="KIOSK_CONFIG", type=click.Path(dir_okay=False),
              help="TOML settings file (or $KIOSK_CONFIG); options given here win over it, "
                   "and it wins over the data folder's kiosk.toml.")
@click.option("--port", type=click.IntRange(*config.bounds("PORT")), help="Port (default 8080).")
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--threads", type=click.IntRange(*config.bounds("THREADS")),
              help="Waitress worker threads (default 8).")
@click.option("--idle-seconds", type=click.IntRange(*config.bounds("IDLE_SECONDS")),
              help="Kiosk returns to its home screen after this many idle seconds.")
@click.option("--sync-interval", type=click.IntRange(*config.bounds("SYNC_INTERVAL")),
              help="(terminal) seconds between sync attempts.")
@click.option("--stale-hours", type=click.IntRange(*config.bounds("STALE_HOURS")),
              help="(terminal) content older than this is flagged as stale.")
def serve(data_dir, config_file, port, host, threads, idle_seconds, sync_interval, stale_hours):
    """Serve an instance with waitress (a terminal also runs its sync loop)."""
    from .memory import limit_arenas
    limit_arenas()  # before any thread starts: RSS stays flat under load (kiosk/memory.py)
    options = {"DATA_DIR": data_dir, "PORT": port, "HOST": host, "THREADS": threads,
               "IDLE_SECONDS": idle_seconds, "SYNC_INTERVAL": sync_interval,
               "STALE_HOURS": stale_hours}
    try:
        settings = config.serve_settings(options, config_file)
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    path, host, port = settings["data_dir"], settings["host"], settings["port"]
    from . import create_app
    app = create_app({**settings["app_config"], "DATA_DIR": str(path)})
    click.echo(f"kiosk ({app.config['ROLE']}) serving {path} on http://{host}:{port}/")
    sys.stdout.flush()
    from sync.service import start_background  # terminal sync loop / hub re-sign timer
    start_background(app)
    from . import notifier  # hub and standalone: notifications by e-mail and group robots
    notifier.start(app)
    from .ime import prepare_table  # the pinyin table, built once per instance in a child process
    prepare_table(app)
    _serve(app, host, port, settings["threads"], settings["trusted_proxy"])


@main.command()
@data_dir_option
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False),
              help="The archive to write (.tar.gz); it holds private keys, keep it safe.")
def backup(data_dir, target):
    """Back up a running instance: the database (SQLite online backup) and its whole data folder."""
    from .backup import make_backup
    path = _data_dir(data_dir)
    try:
        names = make_backup(path, Path(target))
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"已备份 {path}（{len(names)} 项）到 {Path(target).resolve()}")


# --- kiosk import-catalog (content/importer.py) ---------------------------------

@main.command("import-catalog")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@data_dir_option
@click.option("--jurisdiction", "jurisdiction_code",
              help="Jurisdiction code (12 digits); default: the instance scope, else the county.")
@click.option("--domain", help="领域 for rows when the file has no 领域 column.")
def import_catalog(file, data_dir, jurisdiction_code, domain):
    """Import a catalogue (.xlsx or .csv, standard columns) as published, all or nothing."""
    from content.importer import CatalogueError, import_catalogue  # noqa: PLC0415
    path = _data_dir(data_dir)
    database = path / config.DATABASE_NAME
    if not (path / config.CONFIG_NAME).exists() or not database.exists():
        raise click.ClickException(f"{path} 不是已初始化的实例目录，请先运行 kiosk init")
    if jurisdiction_code is not None and not (len(jurisdiction_code) == 12
                                              and jurisdiction_code.isdigit()):
        raise click.BadParameter("行政区划代码应为12位数字", param_hint="--jurisdiction")
    conn = db.open_database(database)
    try:
        result = import_catalogue(conn, file, jurisdiction_code, domain=domain)
    except CatalogueError as e:
        raise click.ClickException(
            f"导入被拒绝，未写入任何内容（{Path(file).name}）：\n" + str(e)) from e
    finally:
        conn.close()
    click.echo(result.summary())


# --- kiosk user add / passwd (staff accounts for the admin) -----------------------

def _open_instance_db(data_dir):
    path = _data_dir(data_dir)
    database = path / config.DATABASE_NAME
    if not (path / config.CONFIG_NAME).exists() or not database.exists():
        raise click.ClickException(f"{path} 不是已初始化的实例目录，请先运行 kiosk init")
    return db.open_database(database)


def _new_password(conn, username: str, from_stdin: bool) -> str:
    """Prompted twice (hidden) or one line from stdin; refused when weak or a default one."""
    from content.users import WeakPassword, check_password  # noqa: PLC0415
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    try:
        check_password(password, username, demo=db.get_meta(conn, "demo") == "1")
    except WeakPassword as e:
        raise click.ClickException(f"密码不符合要求：{e}") from e
    return password


@main.group()
def user():
    """Staff accounts: add one, change a password."""


def _role(_ctx, _param, value: str) -> str:
    from content.users import ROLES, normalise_role  # noqa: PLC0415
    role = normalise_role(value)
    if role is None:
        raise click.BadParameter(f"未知角色「{value}」；可用：" + "、".join(
            f"{code.replace('_', '-')}（{name}）" for code, name in ROLES.items()))
    return role


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, callback=_role,
              help="county-admin, county-reviewer, township-editor, township-reviewer, "
                   "village-editor, village-supervisor (or with _).")
@click.option("--jurisdiction", "jurisdiction_code", required=True,
              help="12-digit code of the county, township or village the account works for.")
@click.option("--display-name", default="", help="Name shown in the admin and the audit log.")
@click.option("--password-stdin", is_flag=True,
              help="Read a chosen password from standard input instead of making a one-time one.")
@data_dir_option
def user_add(username, role, jurisdiction_code, display_name, password_stdin, data_dir):
    """Create a staff account; the last line printed is its one-time password."""
    from content import editing, jurisdictions, users  # noqa: PLC0415
    conn = _open_instance_db(data_dir)
    try:
        try:
            users.check_username(username)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="USERNAME") from e
        place = jurisdictions.get(conn, jurisdiction_code)
        if place is None:
            raise click.BadParameter(f"行政区划代码「{jurisdiction_code}」不存在", param_hint="--jurisdiction")
        want = users.ROLE_LEVEL[role]
        if place["level"] != want:
            names = {"county": "县", "township": "乡镇（街道）", "village": "村（社区）"}
            raise click.BadParameter(f"{users.ROLES[role]}应属于{names[want]}，而「{place['name']}」"
                                     f"是{names[place['level']]}", param_hint="--jurisdiction")
        if conn.execute("SELECT 1 FROM user WHERE username = ?", (username,)).fetchone():
            raise click.ClickException(f"用户名「{username}」已存在；修改密码请用 kiosk user passwd")
        one_time = not password_stdin
        password = users.one_time_password() if one_time else _new_password(conn, username, True)
        with editing.transaction(conn):
            uid = users.create_user(conn, username, password, role, jurisdiction_code, display_name,
                                    must_change=one_time)
            editing.audit(conn, None, "create", "user", uid, None,
                          {"username": username, "role": role, "jurisdiction_code": jurisdiction_code,
                           "display_name": display_name}, username="kiosk user add")
    finally:
        conn.close()
    click.echo(f"已创建账号 {username}（{users.ROLES[role]}，{place['name']}）")
    if one_time:
        click.echo("首次登录须修改密码。一次性密码：")
        click.echo(password)


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
def user_passwd(username, password_stdin, data_dir):
    """Set a new password; the account's open sessions end."""
    from content import editing, users  # noqa: PLC0415
    conn = _open_instance_db(data_dir)
    try:
        row = conn.execute("SELECT id FROM user WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise click.ClickException(f"没有用户名为「{username}」的账号")
        password = _new_password(conn, username, password_stdin)
        with editing.transaction(conn):
            users.set_password(conn, username, password)
            editing.audit(conn, None, "passwd", "user", row["id"], username="kiosk user passwd")
    finally:
        conn.close()
    click.echo(f"已修改 {username} 的密码")


from sync.cli import COMMANDS as _SYNC_COMMANDS  # noqa: E402  keygen, enroll, publish, sync, trust

for _command in _SYNC_COMMANDS:
    main.add_command(_command)

from .cli_holidays import holidays_group  # noqa: E402  kiosk holidays import/show/delete
main.add_command(holidays_group)
from .cli_county import COMMANDS as _COUNTY_COMMANDS  # noqa: E402  import-divisions
for _command in _COUNTY_COMMANDS:
    main.add_command(_command)
