"""Instance configuration: a data folder holding kiosk.toml, the database and keys."""
from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path

CONFIG_NAME = "kiosk.toml"
DATABASE_NAME = "kiosk.sqlite3"
ROLES = ("standalone", "hub", "terminal")

DEFAULTS = {
    "ROLE": "standalone",
    "SCOPE": None,              # jurisdiction code this instance shows (None: everything)
    "IDLE_SECONDS": 120,        # kiosk returns to the attract screen after this
    "STALE_HOURS": 72,          # terminal content older than this is flagged
    "SYNC_INTERVAL": 300,
    "HUB_URL": None,
    "TRUSTED_KEYS": [],
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
}


def data_dir_from(value: str | os.PathLike | None) -> Path:
    """The data folder from an option, else $KIOSK_DATA_DIR."""
    value = value or os.environ.get("KIOSK_DATA_DIR")
    if not value:
        raise ValueError("需要指定数据目录：--data-dir 或环境变量 KIOSK_DATA_DIR")
    return Path(value).expanduser().resolve()


def read_instance_config(data_dir: Path) -> dict:
    """Settings from ``kiosk.toml`` as upper-case Flask config keys."""
    path = data_dir / CONFIG_NAME
    if not path.exists():
        return {}
    with path.open("rb") as f:
        raw = tomllib.load(f)
    return {k.upper(): v for k, v in raw.items()}


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_instance_config(data_dir: Path, settings: dict) -> Path:
    """Write ``kiosk.toml`` atomically; None values are left out."""
    path = data_dir / CONFIG_NAME
    lines = ["# kiosk instance configuration (written by `kiosk init`)"]
    lines += [f"{k.lower()} = {_toml_value(v)}" for k, v in settings.items() if v is not None]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def secret_key(data_dir: Path) -> str:
    """The instance's session secret, made once and kept private in the data folder."""
    path = data_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
