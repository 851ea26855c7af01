"""kiosk/config.py: one settings schema for kiosk.toml, --config files and the command line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk import cli, config
from kiosk.cli import create_instance

ROOT = Path(__file__).resolve().parent.parent


def table_keys(markdown: str, heading: str) -> set[str]:
    """First-column keys of the table under a heading."""
    section = markdown.split(heading, 1)[1]
    section = re.split(r"\n#+ ", section, maxsplit=1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def sample(key: str):
    kind, low, _high, _doc = config.SETTINGS[key]
    special = {"ROLE": "hub", "SCOPE": "340499000000", "HUB_URL": "https://hub.example.gov.cn",
               "DATA_DIR": "."}
    if key in special:
        return special[key]
    if kind is bool:
        return True
    if kind is list:
        return []
    if kind is str:
        return "127.0.0.1"
    return low if low is not None else 1


def toml_line(key: str, value) -> str:
    return f"{key.lower()} = {config._toml_value(value)}\n"


def test_the_settings_page_lists_exactly_the_schema():
    documented = table_keys((ROOT / "docs/settings.md").read_text(), "| key |")
    assert documented == {k.lower() for k in config.SETTINGS}


def test_settings_other_docs_mention_are_in_the_schema():
    sync_doc = table_keys((ROOT / "docs/sync.md").read_text(), "## Settings")
    assert sync_doc and sync_doc <= {k.lower() for k in config.SETTINGS}
    for example in (ROOT / "deploy").glob("*.toml.example"):
        keys = re.findall(r"^#?\s*([a-z_]+)\s*=", example.read_text(), flags=re.M)
        assert keys and set(keys) <= {k.lower() for k in config.SETTINGS}, example.name
        config.read_config_file(example)   # the examples are accepted as written


@pytest.mark.parametrize("key", sorted(config.SETTINGS))
def test_every_setting_is_accepted_in_every_file(tmp_path, key):
    value = sample(key)
    conf = tmp_path / "hub.toml"
    conf.write_text(toml_line(key, value), encoding="utf-8")
    assert key in config.read_config_file(conf)
    create_instance(tmp_path / "inst", "hub")
    kiosk_toml = tmp_path / "inst" / config.CONFIG_NAME
    with kiosk_toml.open("a", encoding="utf-8") as f:
        f.write(toml_line(key, value) if key != "ROLE" else "")
    if key in config.FILE_ONLY:
        with pytest.raises(ValueError, match=f"不认识的设置：{key.lower()}"):
            config.read_instance_config(tmp_path / "inst")
    else:
        assert key in config.read_instance_config(tmp_path / "inst")


def test_an_unknown_key_is_refused_everywhere_naming_key_and_file(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    data = tmp_path / "inst"
    create_instance(data, "hub")
    kiosk_toml = data / config.CONFIG_NAME
    kiosk_toml.write_text(kiosk_toml.read_text() + "sync_intervall = 60\n")
    with pytest.raises(ValueError) as e:
        config.read_instance_config(data)
    assert "sync_intervall" in str(e.value) and str(kiosk_toml) in str(e.value)
    assert "不认识的设置" in str(e.value)
    # kiosk serve and the sync commands say the same, without a traceback
    runner = CliRunner()
    for args in (["serve", "--data-dir", str(data)], ["publish", "--data-dir", str(data)]):
        result = runner.invoke(cli.main, args)
        assert result.exit_code != 0 and "sync_intervall" in result.output, args
        assert not isinstance(result.exception, ValueError), result.exception
    # a --config file
    conf = tmp_path / "hub.toml"
    conf.write_text('role = "hub"\nsecure_cookie = true\n')
    with pytest.raises(ValueError, match=r"hub\.toml 中有不认识的设置：secure_cookie"):
        config.read_config_file(conf)


def test_wrong_types_are_refused_with_the_file_named(tmp_path):
    conf = tmp_path / "t.toml"
    for line, message in [('secure_cookies = "yes"', "secure_cookies 应为true 或 false"),
                          ("port = true", "port 应为整数"),
                          ("sync_expiry_days = 0", "sync_expiry_days 应在 1 到 366 之间"),
                          ('role = "kiosk"', "role 应为"),
                          ('scope = "3404"', "scope 应为12位")]:
        conf.write_text(line + "\n")
        with pytest.raises(ValueError, match=message) as e:
            config.read_config_file(conf)
        assert str(conf) in str(e.value)


def test_the_kiosk_config_file_reaches_the_sync_commands(tmp_path, monkeypatch):
    data = tmp_path / "inst"
    create_instance(data, "hub")
    conf = tmp_path / "hub.toml"
    conf.write_text('role = "hub"\nsync_expiry_days = 3\nsync_prune_keep = 5\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(conf))
    settings = config.instance_settings(data)
    assert settings["SYNC_EXPIRY_DAYS"] == 3 and settings["SYNC_PRUNE_KEEP"] == 5
    assert settings["ROLE"] == "hub"
