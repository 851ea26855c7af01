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
    "SYNC_TIMEOUT": 3600,       # a terminal's sync round (a child process) is killed after this
    "HUB_URL": None,
    "TRUSTED_KEYS": [],
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # Hub: days an application's personal details are kept after it is answered or archived,
    # and days sign-in records (with addresses) are kept (content.retention, docs/privacy.md).
    "APPLICATION_RETENTION_DAYS": 3 * 366,
    "ACCESS_LOG_RETENTION_DAYS": 180,
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


# --- `kiosk serve` settings --------------------------------------------------
# Precedence, highest first: command-line options (and their environment
# variables), the config file named by --config / $KIOSK_CONFIG, the data
# folder's kiosk.toml, then these defaults and DEFAULTS above.

SERVER_DEFAULTS = {"HOST": "127.0.0.1", "PORT": 8080, "THREADS": 8,
                   # The address of a reverse proxy (nginx) whose X-Forwarded-* headers
                   # waitress may believe; None: no proxy, headers ignored.
                   "TRUSTED_PROXY": None}

# Settings whose type and range are checked wherever they come from:
# key -> (type, minimum, maximum); None bounds are open.
CHECKED_SETTINGS = {
    "HOST": (str, None, None),
    "PORT": (int, 1, 65535),
    "THREADS": (int, 1, 64),
    "DATA_DIR": (str, None, None),
    "IDLE_SECONDS": (int, 10, 86400),
    "SYNC_INTERVAL": (int, 10, 7 * 86400),
    "STALE_HOURS": (int, 1, 24 * 366),
    "SCOPE": (str, None, None),
    "HUB_URL": (str, None, None),
    "TRUSTED_KEYS": (list, None, None),
    "TRUSTED_PROXY": (str, None, None),
    "PAGE_CACHE_BYTES": (int, 0, 1024 * 1024 * 1024),
    "PAGE_CACHE_SECONDS": (int, 1, 86400),
    "PAGE_CACHE_RENDERS": (int, 1, 64),
    "SYNC_TIMEOUT": (int, 10, 7 * 86400),
    "APPLICATION_RETENTION_DAYS": (int, 30, 100 * 366),
    "ACCESS_LOG_RETENTION_DAYS": (int, 7, 10 * 366),
}


def check_settings(settings: dict, source: str) -> dict:
    """Raise ValueError (in Chinese, naming the source) for a mistyped or out-of-range value."""
    for key, value in settings.items():
        if key not in CHECKED_SETTINGS:
            continue
        kind, low, high = CHECKED_SETTINGS[key]
        # bool is an int in Python, but `port = true` is a mistake, not port 1.
        if not isinstance(value, kind) or isinstance(value, bool):
            names = {str: "字符串", int: "整数", list: "列表"}
            raise ValueError(f"{source}：{key.lower()} 应为{names[kind]}，实际是 {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{source}：{key.lower()} 应在 {low} 到 {high} 之间，实际是 {value}")
    if "SCOPE" in settings and not (len(settings["SCOPE"]) == 12 and settings["SCOPE"].isdigit()):
        raise ValueError(f"{source}：scope 应为12位行政区划代码，实际是 {settings['SCOPE']!r}")
    return settings


def read_config_file(path: str | os.PathLike) -> dict:
    """Settings from a `kiosk serve --config` TOML file as upper-case keys, checked.

    Unknown keys are refused so that a typo (``prot = 80``) is not silently ignored;
    a relative ``data_dir`` is taken relative to the file's folder.
    """
    path = Path(path).expanduser()
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ValueError(f"找不到配置文件 {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"配置文件 {path} 格式有误：{e}") from None
    settings = {k.upper(): v for k, v in raw.items()}
    known = set(CHECKED_SETTINGS) | set(DEFAULTS) | set(SERVER_DEFAULTS)
    unknown = sorted(k.lower() for k in settings if k not in known)
    if unknown:
        raise ValueError(f"配置文件 {path} 中有不认识的设置：{'、'.join(unknown)}；"
                         f"可用的设置：{'、'.join(sorted(k.lower() for k in known))}")
    check_settings(settings, str(path))
    if "ROLE" in settings and settings["ROLE"] not in ROLES:
        raise ValueError(f"{path}：role 应为 {' / '.join(ROLES)} 之一")
    if "DATA_DIR" in settings:
        settings["DATA_DIR"] = str((path.parent / settings["DATA_DIR"]).resolve())
    return settings


def serve_settings(options: dict, config_path: str | os.PathLike | None) -> dict:
    """Everything `kiosk serve` needs, merged by precedence.

    ``options`` holds the command line's values by upper-case key, None where not given.
    Returns ``{"data_dir": Path, "host", "port", "threads", "trusted_proxy", "app_config": dict}``, where
    ``app_config`` (options over the config file) is what ``create_app`` lays over kiosk.toml.
    Raises ValueError with a Chinese message for any bad input.
    """
    given = {k: v for k, v in options.items() if v is not None}
    check_settings(given, "命令行参数")
    from_file = read_config_file(config_path) if config_path else {}
    data_dir = data_dir_from(given.pop("DATA_DIR", None) or from_file.pop("DATA_DIR", None))
    from_file.pop("DATA_DIR", None)
    if not (data_dir / CONFIG_NAME).exists():
        raise ValueError(f"{data_dir} 不是已初始化的实例目录，请先运行 kiosk init")
    instance = check_settings(read_instance_config(data_dir), str(data_dir / CONFIG_NAME))
    role = instance.get("ROLE", DEFAULTS["ROLE"])
    if from_file.get("ROLE", role) != role:
        raise ValueError(f"配置文件写的角色是 {from_file['ROLE']}，但 {data_dir} 是 {role} 实例；"
                         "角色由 kiosk init 决定，不能在配置文件里更改")
    from_file.pop("ROLE", None)
    overrides = {**from_file, **given}
    merged = {**SERVER_DEFAULTS, **instance, **overrides}
    return {"data_dir": data_dir, "host": merged["HOST"], "port": merged["PORT"],
            "threads": merged["THREADS"], "trusted_proxy": merged["TRUSTED_PROXY"],
            "app_config": overrides}
