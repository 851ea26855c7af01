"""`kiosk keygen | enroll | publish | sync | trust | prune-blobs`: the sync commands of the console tool."""
from __future__ import annotations

import os
import secrets
import sys
import threading
from datetime import timedelta
from pathlib import Path

import click

from content import db, jurisdictions

from . import bundle, prune as pruning, publish as publishing, removable, terminal

data_dir_option = click.option(
    "--data-dir", "data_dir", envvar="KIOSK_DATA_DIR", type=click.Path(file_okay=False),
    help="Instance data folder (or $KIOSK_DATA_DIR).")


def _instance(data_dir) -> tuple[Path, dict]:
    from kiosk import config  # noqa: PLC0415
    try:
        path = config.data_dir_from(data_dir)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    if not (path / config.CONFIG_NAME).exists():
        raise click.ClickException(f"{path} 不是已初始化的实例目录，请先运行 kiosk init")
    try:
        return path, config.instance_settings(path)
    except ValueError as e:
        raise click.ClickException(str(e)) from e


def hub_settings(cfg: dict) -> dict:
    return {"expiry_days": float(cfg.get("SYNC_EXPIRY_DAYS", publishing.DEFAULT_EXPIRY_DAYS)),
            "resign_hours": float(cfg.get("SYNC_RESIGN_HOURS", publishing.DEFAULT_RESIGN_HOURS))}


@click.command()
@data_dir_option
@click.option("--rotate", is_flag=True,
              help="Make a new key; the old one keeps co-signing as keys/previous.pem.")
def keygen(data_dir, rotate):
    """(hub) Make the Ed25519 signing key; the last line printed is the public key (base64)."""
    path, _cfg = _instance(data_dir)
    key_file = publishing.signing_key_path(path)
    if key_file.exists() and not rotate:
        click.echo(f"签名密钥已存在：{key_file}（如需更换请加 --rotate）")
    else:
        if key_file.exists():
            os.replace(key_file, publishing.keys_dir(path) / "previous.pem")
            click.echo("旧密钥已移为 keys/previous.pem，轮换期间继续共同签名；"
                       "所有终端信任新公钥后请删除它")
        bundle.save_private_key(bundle.generate_key(), key_file)
        click.echo(f"已生成签名密钥：{key_file}")
    key = bundle.load_private_key(key_file)
    click.echo(f"密钥编号 keyid: {bundle.keyid(bundle.raw_public(key))}")
    click.echo("公钥（终端 kiosk init --trust 使用）:")
    click.echo(bundle.public_b64(key))


@click.command()
@data_dir_option
@click.option("--scope", required=True, help="Jurisdiction code (12 digits) of the terminal.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 365),
              help="Days the token stays valid.")
@click.option("--name", "label", default="", help="The terminal's name, e.g. 杏花村村委会一楼查询机.")
def enroll(data_dir, scope, days, label):
    """(hub) Make a one-time enrolment token for one terminal; the last line printed is the token."""
    path, _cfg = _instance(data_dir)
    if not jurisdictions.is_code(scope):
        raise click.BadParameter("行政区划代码应为12位数字", param_hint="--scope")
    label = " ".join(label.split())
    if len(label) > 40:
        raise click.BadParameter("终端名称最多40个字", param_hint="--name")
    conn = db.open_database(path / "kiosk.sqlite3")
    try:
        place = jurisdictions.get(conn, scope)
        if place is None:
            raise click.ClickException(f"本平台没有行政区划 {scope}")
        token = secrets.token_urlsafe(32)
        from .hub import token_hash  # noqa: PLC0415
        conn.execute("INSERT INTO sync_enrolment(token_hash, scope, expires_at, label) VALUES (?, ?, ?, ?)",
                     (token_hash(token), scope, bundle.iso(bundle.utcnow() + timedelta(days=days)), label))
    finally:
        conn.close()
    click.echo(f"{place['name']}（{scope}）终端注册令牌，仅可使用一次，{days} 天内有效：")
    click.echo(token)


@click.command()
@data_dir_option
@click.option("--force", is_flag=True, help="Re-sign every scope with a new version now.")
@click.option("--to", "target", type=click.Path(file_okay=False),
              help="Also write the bundles into this folder (a USB stick), laid out as /sync/v1/; "
                   "terminals' outboxes found there are imported first.")
@click.option("--scope", "only_scope", help="With --to: only this jurisdiction's bundle (12 digits).")
def publish(data_dir, force, target, only_scope):
    """(hub) Write the signed bundles for every scope."""
    path, cfg = _instance(data_dir)
    if only_scope is not None and not target:
        raise click.BadParameter("--scope 只能与 --to 一起使用", param_hint="--scope")
    if only_scope is not None and not jurisdictions.is_code(only_scope):
        raise click.BadParameter("行政区划代码应为12位数字", param_hint="--scope")
    conn = db.open_database(path / "kiosk.sqlite3")
    try:
        if only_scope is not None and jurisdictions.get(conn, only_scope) is None:
            raise click.ClickException(f"本平台没有行政区划 {only_scope}")
        if target:
            _import_from_stick(path, conn, Path(target))
        total = conn.execute("SELECT count(*) FROM jurisdiction").fetchone()[0]
        with click.progressbar(length=total, label="发布内容包", file=sys.stderr) as bar:
            try:
                results = publishing.publish_all(path, conn, force=force,
                                                 progress=lambda _j: bar.update(1),
                                                 **hub_settings(cfg))
            except FileNotFoundError as e:
                raise click.ClickException(str(e)) from e
    finally:
        conn.close()
    changed = [r for r in results if r["changed"]]
    click.echo(f"已发布 {len(results)} 个区划的内容包，其中 {len(changed)} 个生成了新版本；"
               f"目录：{publishing.published_dir(path)}")
    if target:
        scopes = [only_scope] if only_scope else [r["scope"] for r in results]
        try:
            done = removable.export_bundles(path, Path(target), scopes)
        except (removable.RemovableError, OSError) as e:
            raise click.ClickException(f"写入目录失败：{e}") from e
        click.echo(f"已写入 {target}：{done['scopes']} 个区划的内容包，新增 {done['blobs']} 个内容文件")
    if changed:
        _echo_prune(_prune(path, pruning.settings(cfg)))


def _import_from_stick(path: Path, conn, folder: Path) -> None:
    """File the terminals' outboxes carried on the stick and leave their acknowledgements."""
    for r in removable.import_outboxes(path, conn, folder):
        if r["error"]:
            click.echo(f"未导入 {r['file']}：{r['error']}", err=True)
        else:
            click.echo(f"已导入终端记录 {r['file']}：收存 {r['held']} 条，拒收 {r['rejected']} 条")


def _prune(path: Path, options: dict, dry_run: bool = False) -> pruning.PruneResult:
    conn = db.open_database(path / "kiosk.sqlite3")
    try:
        return pruning.prune(path, dry_run=dry_run, conn=None if dry_run else conn, **options)
    finally:
        conn.close()


def _echo_prune(result: pruning.PruneResult, dry_run: bool = False) -> None:
    verb = "可清理" if dry_run else "已清理"
    click.echo(f"{verb} {result.removed} 个不再需要的内容文件（{result.removed_bytes / 1e6:.1f} MB），"
               f"保留 {result.kept} 个")


@click.command("prune-blobs")
@data_dir_option
@click.option("--keep", type=click.IntRange(1, 1000), default=None,
              help=f"Keep the blobs of the last N manifests of every scope (default {pruning.DEFAULT_KEEP}).")
@click.option("--grace-hours", type=click.FloatRange(0), default=None,
              help=f"Keep every blob younger than this (default {pruning.DEFAULT_GRACE_HOURS:g}).")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def prune_blobs(data_dir, keep, grace_hours, dry_run):
    """(hub) Remove published blobs that no recent manifest needs."""
    path, cfg = _instance(data_dir)
    options = pruning.settings(cfg)
    if keep is not None:
        options["keep"] = keep
    if grace_hours is not None:
        options["grace_hours"] = grace_hours
    _echo_prune(_prune(path, options, dry_run), dry_run)


@click.command("sync")
@data_dir_option
@click.option("--once", is_flag=True, help="One round, then exit (non-zero if refused or failed).")
@click.option("--from", "folder", type=click.Path(exists=True, file_okay=False),
              help="Apply the bundle from this folder (a USB stick) instead of the hub, verified the "
                   "same way, and leave the outbox there for the hub.")
def sync_command(data_dir, once, folder):
    """(terminal) Pull and apply the newest bundle, push the outbox."""
    path, cfg = _instance(data_dir)
    if folder:
        try:
            out = removable.sync_from_folder(path, Path(folder))
        except terminal.SyncError as e:
            click.echo(f"同步失败：{e}", err=True)
            sys.exit(1)
        click.echo(out["pull"].message)
        for warning in out["warnings"]:
            click.echo(f"注意：{warning}", err=True)
        if out["acknowledged"]:
            click.echo(f"县级平台已确认收到 {out['acknowledged']} 条记录")
        click.echo(f"已将 {out['exported']} 条待上传记录写入 {folder}，请带回县级平台导入")
        return
    if once:
        terminal.die_with_parent()     # a round started by `kiosk serve` ends with it
        report = terminal.sync_once(path)
        if report.pull is not None and report.pull.ok:
            click.echo(report.pull.message)
        if report.pushed:
            click.echo(f"已上传 {report.pushed} 条记录")
        for error in report.errors:
            click.echo(f"同步失败：{error}", err=True)
        sys.exit(0 if report.ok else 1)
    stop = threading.Event()
    click.echo(f"同步中（每 {cfg.get('SYNC_INTERVAL', 300)} 秒），按 Ctrl-C 停止")
    try:
        terminal.run_loop(path, stop, timeout=float(cfg.get("SYNC_TIMEOUT") or 0) or None)
    except KeyboardInterrupt:
        stop.set()


@click.command()
@data_dir_option
@click.argument("pubkey")
@click.option("--remove", is_flag=True, help="Stop trusting this key.")
def trust(data_dir, pubkey, remove):
    """(terminal) Add (or remove) a trusted hub public key, e.g. for a key rotation."""
    from kiosk import config  # noqa: PLC0415
    path, cfg = _instance(data_dir)
    try:
        bundle.load_public_b64(pubkey)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="PUBKEY") from e
    keys = [k for k in cfg.get("TRUSTED_KEYS") or [] if k != pubkey]
    if not remove:
        keys.append(pubkey)
    if not keys:
        raise click.ClickException("至少要保留一个可信公钥")
    settings = {k.lower(): v for k, v in cfg.items()}
    settings["trusted_keys"] = keys
    config.write_instance_config(path, settings)
    click.echo(f"可信公钥共 {len(keys)} 个")


COMMANDS = (keygen, enroll, publish, sync_command, trust, prune_blobs)
