"""Pictures on a village terminal in Chromium: uploaded and reviewed on a real hub, synced, then
shown on the notice page, zoomed in the viewer (buttons and a two-finger pinch), and rotated on
the village board as picture slides."""
from __future__ import annotations

import shutil
import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from waitress import create_server

from content import db
from kiosk import config, create_app
from kiosk.cli import create_instance
from sync import bundle, publish, terminal
from sync.hub import token_hash

from .conftest import LANDSCAPE, PORTRAIT, LiveServer, free_port
from .test_touch import AXE_JS, SERIOUS, axe_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pictures_util import notice_with_pictures  # noqa: E402

pytestmark = pytest.mark.browser
VILLAGE = "340499100201"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def village_terminal(tmp_path_factory, demo_template):
    """A hub with a reviewed notice carrying a 明白卡 image and a 2-page PDF, and a village
    terminal synced from it over HTTP, served by `kiosk serve`: (its URL, notice id, its folder)."""
    tmp = tmp_path_factory.mktemp("pictures")
    hub_dir = tmp / "hub"
    shutil.copytree(demo_template, hub_dir)
    config.write_instance_config(hub_dir, {"role": "hub"})
    key = bundle.generate_key()
    bundle.save_private_key(key, publish.signing_key_path(hub_dir))
    app = create_app({"DATA_DIR": str(hub_dir), "TESTING": True})
    conn = db.connect(hub_dir / config.DATABASE_NAME)
    nid = notice_with_pictures(app, conn, VILLAGE)
    # The demo's 紧急 notice would pre-empt the board's rotation: it has ended here.
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")
    publish.publish_all(hub_dir, conn)
    conn.execute("INSERT INTO sync_enrolment(token_hash, scope, expires_at) VALUES (?, ?, ?)",
                 (token_hash("pictures-token"), VILLAGE, "2999-01-01T00:00:00Z"))
    conn.close()
    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    term = tmp / "terminal"
    create_instance(term, "terminal", scope=VILLAGE, hub_url=f"http://127.0.0.1:{port}",
                    trusted_keys=[bundle.public_b64(key)])
    terminal.init_terminal(term, "pictures-token")
    assert terminal.sync_once(term).ok
    live = LiveServer(term).start()
    yield live.url, nid, term
    live.stop()
    for channel in list(server._map.values()):
        try:
            channel.close()
        except OSError:
            pass


def _loaded(page, selector: str) -> list[int]:
    """naturalWidth of every matching image, after scrolling each into view (they load lazily)."""
    widths = []
    for img in page.locator(selector).all():
        img.scroll_into_view_if_needed()
        page.wait_for_function("el => el.complete", arg=img.element_handle())
        widths.append(img.evaluate("el => el.naturalWidth"))
    return widths


def _scale(page) -> float:
    return page.evaluate("""() => {
      const t = getComputedStyle(document.querySelector('.viewer-img')).transform;
      return t === 'none' ? 1 : new DOMMatrix(t).a; }""")


def _pinch(page, cx: float, cy: float, start: float, end: float, steps: int = 8) -> None:
    """Two fingers moving apart (end > start) or together, through Chromium's touch input."""
    cdp = page.context.new_cdp_session(page)

    def send(kind, gap):
        points = [] if gap is None else [{"x": cx - gap / 2, "y": cy, "id": 1}, {"x": cx + gap / 2, "y": cy, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    send("touchStart", start)
    for i in range(1, steps + 1):
        send("touchMove", start + (end - start) * i / steps)
    send("touchEnd", None)
    cdp.detach()


def test_notice_pictures_and_zoom_viewer_on_a_portrait_kiosk(village_terminal, browser, artifacts):
    url, nid, _term = village_terminal
    context, page = axe_page(browser, PORTRAIT)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Reached as a resident does: the list, then the notice (an htmx swap, not a page load).
    page.goto(url + "/notices")
    page.locator(f'a[href="/notices/{nid}"]').first.tap()
    page.wait_for_url(url + f"/notices/{nid}")
    page.locator(".pictures").wait_for()
    page.locator(".picture").first.tap()
    page.locator(".viewer").wait_for(state="visible")
    page.get_by_role("button", name="关闭").tap()
    page.goto(url + f"/notices/{nid}")
    page.add_script_tag(path=str(AXE_JS))
    assert page.evaluate(SERIOUS) == []
    assert page.locator(".pictures h2").inner_text() == "图片和附件"
    assert page.locator(".picture-name").all_inner_texts()[1].startswith("低保政策.pdf")
    assert "共 2 页" in page.locator(".picture-name").all_inner_texts()[1]
    assert all(w > 1000 for w in _loaded(page, ".picture img")) and page.locator(".picture img").count() == 3
    # Inline pictures fit the column: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    page.locator(".picture-set").first.evaluate("el => el.scrollIntoView()")
    page.screenshot(path=str(artifacts / "pictures-notice-1080x1920.png"))

    page.locator(".picture").first.tap()
    viewer = page.locator(".viewer")
    viewer.wait_for(state="visible")
    for label in ("放大", "缩小", "关闭"):
        box = page.get_by_role("button", name=label).bounding_box()
        assert box["height"] >= 64 and box["width"] >= 64, (label, box)
    assert page.locator(".viewer-img").evaluate("el => el.naturalWidth") > 1000
    assert page.evaluate("document.activeElement.textContent").endswith("关闭")
    assert page.evaluate(SERIOUS) == []                         # the open dialog too
    assert _scale(page) == pytest.approx(1)
    page.screenshot(path=str(artifacts / "pictures-viewer-1080x1920.png"))

    page.get_by_role("button", name="放大").tap()
    page.get_by_role("button", name="放大").tap()
    assert _scale(page) == pytest.approx(1.6 * 1.6, rel=0.01)
    assert page.locator(".viewer-level").inner_text() == "256%"
    page.screenshot(path=str(artifacts / "pictures-viewer-zoomed-1080x1920.png"))
    page.get_by_role("button", name="缩小").tap()
    page.get_by_role("button", name="缩小").tap()
    assert _scale(page) == pytest.approx(1)
    assert page.get_by_role("button", name="缩小").is_disabled()

    # Two fingers apart: bigger; together again: back towards the whole picture.
    stage = page.locator(".viewer-stage").bounding_box()
    cx, cy = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    _pinch(page, cx, cy, 200, 600)
    grown = _scale(page)
    assert grown == pytest.approx(3, rel=0.1)
    _pinch(page, cx, cy, 600, 300)
    assert _scale(page) == pytest.approx(grown / 2, rel=0.1)

    # The PDF's pages: 下一页 within the attachment, caption says which page.
    page.get_by_role("button", name="关闭").tap()
    assert viewer.is_hidden() and page.locator("body.viewer-open").count() == 0
    page.locator(".picture").nth(1).tap()
    assert "第 1 / 2 页" in page.locator(".viewer-caption").inner_text()
    page.get_by_role("button", name="下一页").tap()
    assert "第 2 / 2 页" in page.locator(".viewer-caption").inner_text()
    page.keyboard.press("Escape")
    assert viewer.is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('picture')")
    assert errors == []
    context.close()


@pytest.mark.parametrize("name,viewport,elderly", [
    ("1920x1080", LANDSCAPE, False), ("1920x1080-elderly", LANDSCAPE, True),
    ("1080x1920-elderly", PORTRAIT, True), ("390x844", PHONE, False)])
def test_pictures_at_every_viewport(village_terminal, browser, artifacts, name, viewport, elderly):
    url, nid, _term = village_terminal
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(url + "/")
    if elderly:
        with page.expect_navigation():
            page.locator(".navbtn-elderly").click()
        assert page.locator("body.elderly").count() == 1
    page.goto(url + f"/notices/{nid}")
    assert all(w > 1000 for w in _loaded(page, ".picture img"))
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator(".picture-set").first.evaluate("el => el.scrollIntoView()")
    page.screenshot(path=str(artifacts / f"pictures-notice-{name}.png"))
    page.locator(".picture").first.tap()
    bar = page.locator(".viewer-bar").bounding_box()
    assert bar["y"] + bar["height"] <= viewport["height"] + 1          # buttons on screen
    img = page.locator(".viewer-img").bounding_box()
    assert img["width"] <= viewport["width"] + 1 and img["height"] > viewport["height"] * 0.4
    minimum = 64 if elderly else 48
    for label in ("放大", "缩小", "关闭"):
        box = page.get_by_role("button", name=label).bounding_box()
        assert box["height"] >= minimum and box["width"] >= minimum, (label, box)
    page.screenshot(path=str(artifacts / f"pictures-viewer-{name}.png"))
    context.close()


@pytest.mark.parametrize("orientation,viewport", [("portrait", PORTRAIT), ("landscape", LANDSCAPE)])
def test_picture_slides_on_the_village_board(village_terminal, browser, artifacts, orientation, viewport):
    url, nid, term = village_terminal
    conn = sqlite3.connect(term / "kiosk.sqlite3")
    conn.execute("UPDATE board SET orientation = ? WHERE slug = 'xinghuacun'", (orientation,))
    conn.commit()
    conn.close()
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(url + "/display/xinghuacun")
    slides = page.locator(".slide-picture")
    assert slides.count() == 3                          # the 明白卡 and both pages of the PDF
    for i in range(slides.count()):
        key = slides.nth(i).get_attribute("data-key")
        page.evaluate("""key => { for (const s of document.querySelectorAll('.slide'))
                                    s.classList.toggle('is-active', s.dataset.key === key); }""", key)
        img = slides.nth(i).locator(".slide-figure img")
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
        main = slides.nth(i).locator(".slide-main").bounding_box()
        box = img.bounding_box()
        assert box["y"] >= main["y"] and box["y"] + box["height"] <= main["y"] + main["height"] + 1
        assert box["x"] >= main["x"] and box["x"] + box["width"] <= main["x"] + main["width"] + 1
        assert box["height"] > main["height"] * 0.5        # the picture is the slide, not a stamp
        if i in (0, 1):
            size = f"{viewport['width']}x{viewport['height']}"
            page.screenshot(path=str(artifacts / f"board-picture-{i + 1}-{size}.png"))
    assert "低保政策.pdf（第 1 / 2 页）" in slides.nth(1).inner_text()
    context.close()


def test_staff_upload_and_review_confirmation_in_the_admin(live_server, browser, artifacts, tmp_path):
    """An editor uploads a PDF and a photo through the form; the reviewer sees every page and
    cannot approve before ticking the confirmation (1366×768, the staff's usual screen)."""
    from pictures_util import leaflet_pdf, leaflet_png

    from .staff import csp_watch, login
    base = live_server.url
    conn = sqlite3.connect(live_server.data_dir / "kiosk.sqlite3")
    conn.row_factory = sqlite3.Row
    (tmp_path / "明白卡.pdf").write_bytes(leaflet_pdf())
    (tmp_path / "现场照片.png").write_bytes(leaflet_png())
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    csp = csp_watch(page)
    login(page, base, "village-editor")
    page.goto(base + "/admin/notices/new")
    page.fill("#f-title", "村集体收益分配明白卡")
    page.locator("button[name=then][value=continue]").click()
    page.wait_for_url("**/edit")
    edit_url = page.url
    for name in ("明白卡.pdf", "现场照片.png"):
        page.set_input_files("input[type=file][name=file]", str(tmp_path / name))
        page.get_by_role("button", name="上传附件").click()
        page.wait_for_url(edit_url)
        assert f"已添加附件：{name}" in page.content()
    nid = int(edit_url.rstrip("/").split("/")[-2])
    page.goto(base + f"/admin/notices/{nid}")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核").click()
    assert "已提交审核" in page.content()
    context.clear_cookies()
    login(page, base, "village-supervisor")
    page.goto(base + f"/admin/notices/{nid}")
    section = page.locator("#pictures")
    assert "共 3 张" in section.locator("h2").inner_text()          # 2 PDF pages + 1 photo
    assert all(w > 1000 for w in _loaded(page, "#pictures img"))
    page.screenshot(path=str(artifacts / "admin-review-pictures-1366x768.png"), full_page=True)
    approve = page.get_by_role("button", name="审核通过并发布")
    approve.click()                                            # the browser refuses: box not ticked
    assert page.url == base + f"/admin/notices/{nid}"
    status = lambda: conn.execute("SELECT status FROM notice WHERE id = ?", (nid,)).fetchone()[0]  # noqa: E731
    assert status() == "submitted"
    page.locator("input[name=pictures_checked]").check()
    approve.click()
    page.wait_for_url(base + "/admin/review")
    assert status() == "published"
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'confirm_pictures' AND entity_id = ?",
                        (str(nid),)).fetchone()[0] == 1
    # The PDF original is a download for staff, never a page.
    sha = conn.execute("SELECT sha256 FROM attachment WHERE notice_id = ? AND mime = 'application/pdf'",
                       (nid,)).fetchone()[0]
    with page.expect_download() as dl:
        page.evaluate("url => { const a = document.createElement('a'); a.href = url; document.body.appendChild(a); a.click(); }",
                      f"/admin/notices/{nid}/attachments/{sha}")
    assert dl.value.suggested_filename == "明白卡.pdf"
    assert csp == []
    conn.close()
    context.close()
