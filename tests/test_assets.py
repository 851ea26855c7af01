"""kiosk/assets.py: every static file under a content-hashed URL, cached a year; old URLs revalidate."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kiosk import assets, create_app
from tests.admin_util import login

ROOT = Path(__file__).resolve().parent.parent
STATIC_URL = re.compile(r'(?:src|href)="(/(?:static|display/static|sync-static|admin/static)/[^"]+)"')
PREFIXES = {"/static/": ROOT / "kiosk/static", "/display/static/": ROOT / "display/static",
            "/sync-static/": ROOT / "sync/static", "/admin/static/": ROOT / "content/static/admin"}


def static_urls(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in STATIC_URL.findall(html)]


def file_of(url: str) -> Path:
    path = urlsplit(url).path
    prefix = max((p for p in PREFIXES if path.startswith(p)), key=len)
    return PREFIXES[prefix] / path[len(prefix):]


def check_hashed(client, url: str) -> None:
    """The URL names the file's current SHA-256 and is answered as immutable."""
    query = parse_qs(urlsplit(url).query)
    expected = hashlib.sha256(file_of(url).read_bytes()).hexdigest()[:assets.HASH_LENGTH]
    assert query.get("v") == [expected], url
    r = client.get(url)
    assert r.status_code == 200, url
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


@pytest.mark.parametrize("url", ["/", "/display/", "/display/county-hall", "/notices",
                                 "/admin/login", "/apply", "/no-such-page"])
def test_public_pages_name_every_static_file_by_its_hash(client, url):
    html = client.get(url).get_data(as_text=True)
    urls = static_urls(html)
    assert len(urls) >= 2, (url, urls)
    for u in urls:
        check_hashed(client, u)


def test_admin_fleet_and_printed_pages_name_static_files_by_hash(client):
    login(client, "county-admin")
    seen = set()
    for url in ("/admin/", "/admin/fleet", "/admin/assessment/", "/admin/assessment/print",
                "/admin/users", "/admin/users/sheet"):
        r = client.get(url)
        if r.status_code != 200:
            continue
        seen.add(url)
        for u in static_urls(r.get_data(as_text=True)):
            check_hashed(client, u)
    assert {"/admin/", "/admin/fleet"} <= seen


def test_the_vendored_htmx_is_hashed_too(client):
    html = client.get("/").get_data(as_text=True)
    (htmx,) = [u for u in static_urls(html) if "vendor/htmx.min.js" in u]
    check_hashed(client, htmx)


def test_old_urls_keep_working_and_are_revalidated(client):
    for url in ("/static/kiosk.css", "/static/kiosk.css?v=0123456789ab",
                "/display/static/board.js", "/sync-static/sync.css", "/admin/static/admin.css"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "no-cache", url
        again = client.get(url, headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304, url


def test_no_template_or_script_writes_a_static_path_by_hand():
    """Every reference goes through url_for, which adds the hash; a literal path would not."""
    literal = re.compile(r"""["'(](?:/static/|/display/static/|/sync-static/|/admin/static/)""")
    offenders = []
    for folder in ("kiosk", "content", "display", "sync"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".html", ".js", ".css", ".py") and "vendor" not in path.parts:
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if literal.search(line) and "static_url_path" not in line:
                        offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_a_changed_file_gets_a_new_url_and_boards_a_new_deck(data_dir, monkeypatch):
    """After an upgrade changes a static file, pages name the new hash and a board that was
    loaded before gets a new deck naming the new asset version (board.js then reloads)."""
    before = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    old_client = before.test_client()
    board = old_client.get("/display/county-hall").get_data(as_text=True)
    old_version = re.search(r'data-version="([0-9a-f]+)"', board).group(1)
    old_assets = re.search(r'<body[^>]*data-assets="([0-9a-f]+)"', board).group(1)
    old_css = [u for u in static_urls(board) if "display.css" in u][0]
    assert old_client.get(f"/display/county-hall/slides?v={old_version}").status_code == 204

    real = assets.hash_folder

    def upgraded(folder):
        hashes = real(folder)
        if "display.css" in hashes:
            hashes["display.css"] = "0f0f0f0f0f0f"
        return hashes
    monkeypatch.setattr(assets, "hash_folder", upgraded)
    after = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    assert after.config["ASSETS_VERSION"] != old_assets
    client = after.test_client()
    page = client.get("/display/county-hall").get_data(as_text=True)
    assert [u for u in static_urls(page) if "display.css" in u] == ["/display/static/display.css?v=0f0f0f0f0f0f"]
    # the board loaded before the upgrade polls with its old version: a new deck comes back
    r = client.get(f"/display/county-hall/slides?v={old_version}", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert f'data-assets="{after.config["ASSETS_VERSION"]}"' in r.get_data(as_text=True)
    # and the old URL it still holds is served, but no longer as immutable
    assert client.get(old_css).headers["Cache-Control"] == "no-cache"


def test_hashes_come_from_the_package_folders_not_the_working_directory(data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    hashes = app.extensions["kiosk_assets"]
    assert {"static", "admin.static", "display.static", "sync_admin.static"} <= set(hashes)
    assert "vendor/htmx.min.js" in hashes["static"] and "board.js" in hashes["display.static"]


def test_a_file_changed_on_disk_since_start_up_is_no_longer_immutable(data_dir, tmp_path, monkeypatch):
    """An upgrade replaces files before the restart; until then the old hash must not be
    promised for the new bytes."""
    import shutil
    from display import views as display_views
    folder = tmp_path / "display-static"
    shutil.copytree(ROOT / "display/static", folder)
    monkeypatch.setattr(display_views.bp, "static_folder", str(folder))
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    client = app.test_client()
    html = client.get("/display/county-hall").get_data(as_text=True)
    (url,) = [u for u in static_urls(html) if "board.js" in u]
    assert client.get(url).headers["Cache-Control"] == assets.IMMUTABLE
    (folder / "board.js").write_text((folder / "board.js").read_text() + "\n// upgraded\n")
    r = client.get(url)
    assert r.status_code == 200 and r.data.endswith(b"// upgraded\n")
    assert r.headers["Cache-Control"] == "no-cache"
