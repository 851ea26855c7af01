"""sync/hub_url.py: a terminal refuses a plain-HTTP hub off this machine, at init and at sync."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from kiosk import cli, config
from kiosk.cli import create_instance
from sync import bundle, terminal
from sync.hub_url import HubURLError, check_hub_url

from conftest import VILLAGE


@pytest.mark.parametrize("url", ["https://hub.example.gov.cn", "https://10.1.2.3:8443/",
                                 "http://127.0.0.1:8080", "http://127.8.9.10", "http://[::1]:9000",
                                 "http://localhost:8080/", "HTTP://LOCALHOST"])
def test_https_and_loopback_http_are_accepted(url):
    assert check_hub_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://hub.example.gov.cn", "http://10.1.2.3:8080",
                                 "http://[2001:db8::1]/", "http://localhost.evil.example",
                                 "http://128.0.0.1"])
def test_plain_http_elsewhere_is_refused_in_chinese(url):
    with pytest.raises(HubURLError, match="不加密的 http://.*--insecure-http"):
        check_hub_url(url)
    assert check_hub_url(url, insecure_http=True) == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://hub.example", "hub.example", "https://", "https://h:99999",
                                 "https://hub.example/?x=1", ""])
def test_nonsense_is_refused_even_with_insecure_http(url):
    with pytest.raises(HubURLError, match="无效"):
        check_hub_url(url, insecure_http=True)


def init_args(tmp_path, hub):
    key = bundle.public_b64(bundle.generate_key())
    return ["init", "--role", "terminal", "--data-dir", str(tmp_path / "t"), "--hub", hub,
            "--scope", VILLAGE, "--trust", key, "--enroll", "token"]


def test_init_refuses_a_plain_http_hub_and_writes_nothing(tmp_path):
    result = CliRunner().invoke(cli.main, init_args(tmp_path, "http://hub.example.gov.cn"))
    assert result.exit_code != 0 and "不加密的 http://" in result.output
    assert not (tmp_path / "t" / config.CONFIG_NAME).exists()


def test_init_with_insecure_http_records_the_choice(tmp_path):
    result = CliRunner().invoke(cli.main, init_args(tmp_path, "http://hub.example.gov.cn") +
                                ["--insecure-http"])
    assert result.exit_code == 0, result.output
    cfg = config.read_instance_config(tmp_path / "t")
    assert cfg["INSECURE_HTTP"] is True and cfg["HUB_URL"] == "http://hub.example.gov.cn"
    assert terminal.Settings.load(tmp_path / "t").hub_url == "http://hub.example.gov.cn"


def test_init_accepts_https_and_loopback_without_a_flag(tmp_path):
    for n, hub in enumerate(["https://hub.example.gov.cn/", "http://127.0.0.1:8080"]):
        result = CliRunner().invoke(cli.main, init_args(tmp_path / str(n), hub))
        assert result.exit_code == 0, result.output
        assert "INSECURE_HTTP" not in config.read_instance_config(tmp_path / str(n) / "t")


def test_sync_refuses_a_plain_http_hub_written_into_kiosk_toml(tmp_path):
    """A hand-edited kiosk.toml is checked when the terminal syncs, not only at init."""
    data = tmp_path / "t"
    create_instance(data, "terminal", scope=VILLAGE, hub_url="http://hub.example.gov.cn",
                    trusted_keys=[bundle.public_b64(bundle.generate_key())])
    terminal.init_terminal(data, "token")
    with pytest.raises(terminal.SyncError, match="不加密的 http://"):
        terminal.Settings.load(data)
    result = CliRunner().invoke(cli.main, ["sync", "--data-dir", str(data), "--once"])
    assert result.exit_code != 0 and "不加密的 http://" in result.output
