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
    """Settings from the data folder's ``kiosk.toml`` as upper-case Flask config keys, checked
    against the one settings schema (an unknown key or a bad value raises ValueError)."""
    path = Path(data_dir) / CONFIG_NAME
    if not path.exists():
        return {}
    return read_settings_file(path, instance=True)


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

NUMBER = (int, float)
# The one settings schema, for every source: command-line options, a --config file
# (/etc/kiosk/*.toml, $KIOSK_CONFIG) and the data folder's kiosk.toml.
# key -> (type, minimum, maximum, what it is for); None bounds are open.
# docs/settings.md lists the same keys (tests/test_config.py keeps the two equal).
SETTINGS = {
    "ROLE": (str, None, None, "standalone / hub / terminal; set by kiosk init"),
    "DATA_DIR": (str, None, None, "the data folder (config files only)"),
    "HOST": (str, None, None, "address kiosk serve listens on"),
    "PORT": (int, 1, 65535, "port kiosk serve listens on"),
    "THREADS": (int, 1, 64, "waitress worker threads"),
    "TRUSTED_PROXY": (str, None, None, "address of nginx whose X-Forwarded-* headers count"),
    "SECURE_COOKIES": (bool, None, None, "session cookies only over HTTPS"),
    "SESSION_HOURS": (int, 1, 24 * 30, "staff session lifetime"),
    "PUBLIC_URL": (str, None, None, "public address for QR codes"),
    "SCOPE": (str, None, None, "12-digit jurisdiction code this instance serves"),
    "IDLE_SECONDS": (int, 10, 86400, "kiosk returns home after this idle time"),
    "MAX_CONTENT_LENGTH": (int, 1024, 1024 * 1024 * 1024, "largest request body (bytes)"),
    "PAGE_CACHE_BYTES": (int, 0, 1024 * 1024 * 1024, "resident page cache size; 0: off"),
    "PAGE_CACHE_SECONDS": (int, 1, 86400, "page cache starts afresh at least this often"),
    "PAGE_CACHE_RENDERS": (int, 1, 64, "concurrent renders of uncached pages"),
    "USAGE_FLUSH_SECONDS": (NUMBER, 1, 86400, "how often view counts are written"),
    "HUB_URL": (str, None, None, "terminal: the hub's https:// address"),
    "INSECURE_HTTP": (bool, None, None, "terminal: allow a plain http:// hub off this machine"),
    "TRUSTED_KEYS": (list, None, None, "terminal: hub public keys"),
    "SYNC_INTERVAL": (int, 10, 7 * 86400, "terminal: seconds between syncs"),
    "SYNC_TIMEOUT": (int, 10, 7 * 86400, "terminal: a sync round is killed after this"),
    "STALE_HOURS": (int, 1, 24 * 366, "terminal: staleness notice threshold"),
    "SYNC_EXPIRY_DAYS": (NUMBER, 1, 366, "hub: manifest lifetime"),
    "SYNC_RESIGN_HOURS": (NUMBER, 1, 24 * 366, "hub: re-sign manifests older than this"),
    "SYNC_PUBLISH_INTERVAL": (NUMBER, 10, 7 * 86400, "hub: seconds between publish rounds"),
    "SYNC_URGENT_CHECK": (NUMBER, 1, 86400, "hub: seconds between urgent-change checks"),
    "SYNC_PUBLISH_TIMEOUT": (int, 10, 7 * 86400, "hub: a publish round (a child process) is killed after this"),
    "SYNC_PRUNE_KEEP": (int, 1, 1000, "hub: manifests per scope whose blobs are kept"),
    "SYNC_PRUNE_GRACE_HOURS": (NUMBER, 0, 24 * 366, "hub: blobs younger than this are kept"),
    "SYNC_CHECK_SECONDS": (int, 0, 3600, "terminal: manifest check between rounds; 0: off"),
    "NOTIFY_ROUND_SECONDS": (int, 5, 3600, "hub/standalone: seconds between notification rounds"),
    "NOTIFY_ROUND_TIMEOUT": (int, 10, 86400, "hub/standalone: a notification round (a child process) is killed after this"),
    "DISPLAY_REPORT_SECONDS": (int, 1, 3600, "boards report what they showed this often"),
    "APPLICATION_RETENTION_DAYS": (int, 30, 100 * 366, "hub: days after an answered application before its applicant's details are removed"),
    "ACCESS_LOG_RETENTION_DAYS": (int, 7, 10 * 366, "hub: days sign-in records (with addresses) are kept"),
    "USAGE_RETENTION_DAYS": (int, 400, 100 * 366, "hub: days daily view totals are kept"),
    "INBOX_RETENTION_DAYS": (int, 30, 100 * 366, "hub: days raw upstream records are kept"),
    "AUDIT_RETENTION_DAYS": (int, 366, 100 * 366, "hub: days content and review history is kept"),
    "NOTIFICATION_RETENTION_DAYS": (int, 7, 10 * 366, "hub: days notifications are kept"),
    "DISPLAY_RETENTION_DAYS": (int, 30, 100 * 366, "hub: days proof-of-display records are kept"),
    "HANDWRITING_MODEL": (str, None, None, "terminal: Zinnia model file for the handwriting pad"),
    "TODAY": (str, None, None, "pins the date (YYYY-MM-DD) for training and tests; leave unset"),
    "SCREEN_PORTS": (list, None, None, "terminal: DevTools ports of this machine's screens (127.0.0.1)"),
    "SCREENSHOT_MINUTES": (NUMBER, 0, 24 * 60, "terminal: a thumbnail of every screen this often; 0: only when asked"),
    # The answer clock of residents' objections and questions (content.resident_questions).
    "ANSWER_DAYS_OBJECTION": (int, 1, 90, "hub: days to answer an objection to a 公示 (公示异议)"),
    "ANSWER_DAYS_VILLAGE_QUERY": (int, 1, 90, "hub: days to answer a question on village affairs (村务质询)"),
    "ANSWER_DAYS_SERVICE_QUERY": (int, 1, 90, "hub: days to answer a question on services (办事咨询)"),
    "ANSWER_WORKDAYS_OBJECTION": (bool, None, None, "hub: count objection days as working days"),
    "ANSWER_WORKDAYS_VILLAGE_QUERY": (bool, None, None, "hub: count 村务质询 days as working days"),
    "ANSWER_WORKDAYS_SERVICE_QUERY": (bool, None, None, "hub: count 办事咨询 days as working days"),
    "POLICY_INTERPRETATION_LATE_DAYS": (int, 0, 366, "hub: a 解读 published more than this many days after its document is late"),
    "POLICY_INTERPRETATION_REQUIRED": (bool, None, None, "hub: refuse a document in the 解读 scope without its 解读 (false: allow, the dashboard lists it)"),
}


def bounds(key: str) -> tuple:
    """(minimum, maximum) of a numeric setting: `kiosk serve`'s options use the same ranges."""
    return SETTINGS[key][1:3]


# Only a --config file may name the data folder: kiosk.toml lives inside it.
FILE_ONLY = {"DATA_DIR"}
_KIND_NAMES = {str: "字符串", int: "整数", list: "列表", bool: "true 或 false", NUMBER: "数字"}


def check_settings(settings: dict, source: str) -> dict:
    """Raise ValueError (in Chinese, naming the source) for a mistyped or out-of-range value."""
    for key, value in settings.items():
        if key not in SETTINGS:
            continue
        kind, low, high, _doc = SETTINGS[key]
        # bool is an int in Python, but `port = true` is a mistake, not port 1.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ValueError(f"{source}：{key.lower()} 应为{_KIND_NAMES[kind]}，实际是 {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{source}：{key.lower()} 应在 {low} 到 {high} 之间，实际是 {value}")
    if "SCOPE" in settings and not (len(settings["SCOPE"]) == 12 and settings["SCOPE"].isdigit()):
        raise ValueError(f"{source}：scope 应为12位行政区划代码，实际是 {settings['SCOPE']!r}")
    if "ROLE" in settings and settings["ROLE"] not in ROLES:
        raise ValueError(f"{source}：role 应为 {' / '.join(ROLES)} 之一，实际是 {settings['ROLE']!r}")
    return settings


def read_settings_file(path: str | os.PathLike, instance: bool = False) -> dict:
    """A TOML settings file as upper-case keys, checked against SETTINGS.

    Unknown keys are refused, naming the key and the file, so that a typo
    (``prot = 80``) is never silently ignored. ``instance``: the data folder's kiosk.toml.
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
    known = set(SETTINGS) - FILE_ONLY if instance else set(SETTINGS)
    unknown = sorted(k.lower() for k in settings if k not in known)
    if unknown:
        raise ValueError(f"配置文件 {path} 中有不认识的设置：{'、'.join(unknown)}；"
                         f"可用的设置：{'、'.join(sorted(k.lower() for k in known))}"
                         "（说明见 docs/settings.md）")
    return check_settings(settings, str(path))


def read_config_file(path: str | os.PathLike) -> dict:
    """Settings from a `kiosk serve --config` TOML file; a relative ``data_dir`` is taken
    relative to the file's folder."""
    path = Path(path).expanduser()
    settings = read_settings_file(path)
    if "DATA_DIR" in settings:
        settings["DATA_DIR"] = str((path.parent / settings["DATA_DIR"]).resolve())
    return settings


def instance_settings(data_dir: Path) -> dict:
    """kiosk.toml with the $KIOSK_CONFIG file laid over it: what `kiosk serve` under its
    systemd unit sees, for the other commands (`kiosk publish`, `kiosk sync`) and the sync
    round's child process, which inherit $KIOSK_CONFIG from the unit."""
    settings = read_instance_config(data_dir)
    path = os.environ.get("KIOSK_CONFIG")
    if path:
        from_file = read_config_file(path)
        from_file.pop("DATA_DIR", None)
        from_file.pop("ROLE", None)
        settings.update(from_file)
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
    instance = read_instance_config(data_dir)
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
