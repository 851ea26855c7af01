"""The product as users install it: the wheel and its dependencies from a wheelhouse
(--no-index) into a fresh venv outside the tree, a demo
instance made by `kiosk init`, served by `kiosk serve`; every asset its pages reference
loads with the right type, and htmx really swaps pages in Chromium."""
from __future__ import annotations

import re
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.browser.conftest import LANDSCAPE, free_port
from tests.install_util import ROOT, session_dists, clean_env, install_offline, make_wheelhouse

pytestmark = pytest.mark.browser

# What each kind of reference must come back as (the media type, parameters dropped).
EXPECTED_TYPES = {
    "script": lambda t: t in ("text/javascript", "application/javascript"),
    "style": lambda t: t == "text/css",
    "image": lambda t: t.startswith("image/"),
    "font": lambda t: t.startswith("font/") or t in ("application/font-woff", "application/x-font-ttf"),
    "manifest": lambda t: t in ("application/manifest+json", "application/json"),
}
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".otf")


class Installed:
    def __init__(self, root: Path):
        self.root = root
        self.venv = root / "venv"
        self.data = root / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def kiosk(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / "kiosk"), *args], cwd=self.root,
                              capture_output=True, text=True, timeout=600, env=clean_env())

    def serve(self) -> None:
        log = (self.root / "serve.log").open("ab")
        self.proc = subprocess.Popen([str(self.venv / "bin" / "kiosk"), "serve", "--data-dir",
                                      str(self.data), "--port", str(self.port)],
                                     cwd=self.root, env=clean_env(), stdout=log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((self.root / "serve.log").read_text(errors="replace"))
                time.sleep(0.2)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("installed")
    _sdist, wheel = session_dists(tmp_path_factory)
    product = Installed(root)
    install_offline(make_wheelhouse(wheel, root / "wheelhouse"), product.venv)
    made = product.kiosk("init", "--role", "standalone", "--demo", "--data-dir", str(product.data))
    assert made.returncode == 0, made.stdout + made.stderr
    product.serve()
    yield product
    product.proc.terminate()
    product.proc.wait(10)


def test_the_installed_code_is_the_wheel_not_the_tree(installed):
    probe = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c",
         "import sys, kiosk, content, content.admin, display, sync\n"
         "print(kiosk.__file__, content.admin.__file__, display.__file__, sync.__file__)\n"
         "print(*sys.path)"],
        cwd=installed.root, capture_output=True, text=True, env=clean_env(), check=True)
    files, path = probe.stdout.splitlines()
    for file in files.split():
        assert file.startswith(str(installed.venv)), file
    assert str(ROOT) not in path
    site = next(installed.venv.glob("lib/python*/site-packages"))
    for pth in site.glob("*.pth"):
        assert str(ROOT) not in pth.read_text(), pth
    assert installed.kiosk("--version").returncode == 0


class AssetLinks(HTMLParser):
    """Scripts, stylesheets, icons, images and fonts a page references, with their kind."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        rel = set((a.get("rel") or "").split())
        if tag == "script" and a.get("src"):
            self.links.append((a["src"], "script"))
        elif tag == "link" and a.get("href"):
            if "stylesheet" in rel:
                self.links.append((a["href"], "style"))
            elif rel & {"icon", "apple-touch-icon"}:
                self.links.append((a["href"], "image"))
            elif "manifest" in rel:
                self.links.append((a["href"], "manifest"))
            elif "preload" in rel and a.get("as") in ("font", "image", "style", "script"):
                self.links.append((a["href"], {"font": "font", "image": "image",
                                                "style": "style", "script": "script"}[a["as"]]))
        elif tag in ("img", "source", "input") and a.get("src"):
            self.links.append((a["src"], "image"))
        for candidate in (a.get("srcset") or "").split(","):
            if candidate.strip():
                self.links.append((candidate.split()[0], "image"))


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def board_path(base: str) -> str:
    _status, _type, body = fetch(base + "/display/")
    boards = re.findall(r'href="(/display/[^"/?#]+)"', body.decode())
    assert boards, "the demo has no board"
    return boards[0]


def check_asset(url: str, kind: str, seen: set[str]) -> None:
    if url in seen or url.startswith("data:"):
        return
    seen.add(url)
    try:
        status, content_type, body = fetch(url)
    except urllib.error.HTTPError as e:
        pytest.fail(f"{url}: HTTP {e.code}")
    assert status == 200 and body, url
    media = content_type.split(";")[0].strip()
    assert EXPECTED_TYPES[kind](media), f"{url} ({kind}): {content_type}"
    if kind == "style":   # fonts and images a stylesheet pulls in
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", body.decode()):
            ref_kind = "font" if urlsplit(ref).path.endswith(FONT_SUFFIXES) else "image"
            check_asset(urljoin(url, ref), ref_kind, seen)


def test_every_asset_of_the_main_screens_loads_with_its_type(installed):
    base = installed.url
    seen: set[str] = set()
    for path in ["/", board_path(base), "/apply", "/admin/login"]:
        status, kind, body = fetch(base + path)
        assert status == 200 and kind.startswith("text/html"), path
        parser = AssetLinks()
        parser.feed(body.decode())
        links = [(urljoin(base + path, link), kind) for link, kind in parser.links]
        assert links, path
        if path != "/admin/login":
            assert ("/static/vendor/htmx.min.js", "script") in {
                (urlsplit(u).path, k) for u, k in links}, path
        for url, kind in links:
            # everything is served by the kiosk itself (no CDN: terminals are often offline)
            assert url.startswith("data:") or urlsplit(url).netloc == urlsplit(base).netloc, url
            check_asset(url, kind, seen)
            if kind in ("script", "style"):
                check_hashed(url)
    assert len(seen) >= 8


def check_hashed(url: str) -> None:
    """Hashed from the installed package's files (the wheel's htmx too) and cached a year."""
    v = parse_qs(urlsplit(url).query).get("v")
    assert v and re.fullmatch(r"[0-9a-f]{12}", v[0]), url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url


def test_htmx_swaps_pages_in_the_installed_product(installed, browser, artifacts):
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(installed.url + "/")
        page.wait_for_function("() => window.htmx && htmx.version")
        page.evaluate("() => { window.__sameDocument = true }")
        link = page.locator("#main a[href^='/']").first
        target = link.get_attribute("href")
        with page.expect_request(lambda r: r.headers.get("hx-request") == "true") as swap:
            link.click()
        assert urlsplit(swap.value.url).path == urlsplit(target).path
        page.wait_for_url(re.compile(re.escape(urlsplit(target).path) + "$"))
        # an htmx swap replaced #main in the same document: no full page load happened
        assert page.evaluate("() => window.__sameDocument === true")
        page.screenshot(path=str(artifacts / "installed-after-swap.png"))
        assert not errors, errors
    finally:
        context.close()
