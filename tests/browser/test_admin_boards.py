"""A board's settings changed in the admin reach its running screen after review, without a reload."""
import re

import pytest

from content import db
from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.browser.staff import csp_watch, login

pytestmark = pytest.mark.browser

SLUG = "xinghuacun"


def _prepare(server) -> None:
    """No seasonal emergency, and a screen that checks for news every 2 s (the test's patience)."""
    conn = db.connect(server.data_dir / "kiosk.sqlite3")
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")
    conn.execute("UPDATE board SET poll_seconds = 2 WHERE slug = ?", (SLUG,))
    conn.close()


def _slide_ms(page) -> str:
    return page.get_attribute("#deck", "data-slide-ms")


def _wait_for(page, attribute: str, test, timeout_ms: int = 20000) -> str:
    """Poll the deck's attribute from Python (page-side wait_for_function needs eval, which the CSP forbids)."""
    value = None
    for _ in range(timeout_ms // 250):
        value = page.get_attribute("#deck", attribute)
        if test(value):
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"{attribute} stayed {value!r}")


def test_village_board_change_reaches_the_running_screen_after_review(live_server, browser, artifacts):
    base = live_server.url
    _prepare(live_server)
    screen_ctx = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    screen = screen_ctx.new_page()
    screen.goto(f"{base}/display/{SLUG}")
    assert _slide_ms(screen) == "12000"
    screen.evaluate("window.__sameDocument = true")

    editor_ctx = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    editor = editor_ctx.new_page()
    problems = csp_watch(editor)
    login(editor, base, "village-editor")
    editor.click("nav >> text=电子公示栏")
    editor.wait_for_url(base + "/admin/boards/")
    editor.screenshot(path=str(artifacts / "admin-boards-list-1920x1080.png"), full_page=True)
    editor.click("text=杏花村村务公开栏")
    editor.wait_for_url(re.compile(r"/admin/boards/\d+$"))
    board_url = editor.url
    editor.click("a.button:has-text('编辑')")
    editor.wait_for_url(board_url + "/edit")
    # A bad value is refused next to its field, nothing saved.
    editor.fill("input[name=slide_seconds]", "2")
    editor.click("button[value=view]")
    assert "每屏停留时间应在 5 到 600 秒之间" in editor.inner_text(".field.invalid >> nth=0")
    assert "检查更新间隔应在 10 到 3600 秒之间" in editor.inner_text("main")
    editor.screenshot(path=str(artifacts / "admin-board-editor-error-1920x1080.png"), full_page=True)
    editor.fill("input[name=slide_seconds]", "30")
    editor.fill("input[name=poll_seconds]", "10")       # the 2 s of the test set-up is below the floor
    editor.fill("input[name=fallback_title]", "本村暂无正在公示的事项")
    editor.fill("input[name=w-start-0]", "06:00")
    editor.fill("input[name=w-end-0]", "23:30")
    editor.screenshot(path=str(artifacts / "admin-board-editor-1920x1080.png"), full_page=True)
    editor.click("button[value=submit]")
    editor.wait_for_url(board_url)
    assert "已提交审核" in editor.inner_text("main")
    editor.screenshot(path=str(artifacts / "admin-board-submitted-1920x1080.png"), full_page=True)

    # The preview shows the draft; the running screen keeps the published settings meanwhile.
    with editor_ctx.expect_page() as opened:
        editor.click("a:has-text('预览修改中的版本')")
    preview = opened.value
    preview.wait_for_load_state()
    assert _slide_ms(preview) == "30000" and "预览" in preview.inner_text(".board-foot")
    preview.set_viewport_size(PORTRAIT)
    preview.screenshot(path=str(artifacts / "admin-board-preview-1080x1920.png"))
    screen.wait_for_timeout(5000)                       # two polls of the screen
    assert _slide_ms(screen) == "12000"

    sup_ctx = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    supervisor = sup_ctx.new_page()
    problems += csp_watch(supervisor)
    login(supervisor, base, "village-supervisor")
    supervisor.goto(base + "/admin/review")
    supervisor.click("text=杏花村村务公开栏")
    supervisor.wait_for_url(board_url)
    supervisor.screenshot(path=str(artifacts / "admin-board-review-1080x1920.png"), full_page=True)
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    supervisor.click("button:has-text('审核通过并发布')")
    supervisor.wait_for_url(base + "/admin/review")

    # The running board picks the change up at its next poll, in the same document.
    _wait_for(screen, "data-slide-ms", lambda v: v == "30000")
    assert screen.evaluate("window.__sameDocument === true")
    screen.screenshot(path=str(artifacts / "board-after-admin-change-1080x1920.png"))
    assert not problems, problems
    for ctx in (screen_ctx, editor_ctx, sup_ctx):
        ctx.close()


def test_county_admin_sets_and_clears_an_emergency(live_server, browser, artifacts):
    base = live_server.url
    _prepare(live_server)
    screen_ctx = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    screen = screen_ctx.new_page()
    screen.goto(f"{base}/display/{SLUG}")
    assert screen.get_attribute("#deck", "data-mode") != "emergency"

    ctx = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    admin = ctx.new_page()
    problems = csp_watch(admin)
    admin.on("dialog", lambda d: d.accept())
    login(admin, base, "county-admin")
    admin.click("nav >> text=紧急通知")
    admin.wait_for_url(base + "/admin/emergency")
    admin.select_option("select[name=subject_code]", label="东湖镇（乡级）")
    admin.fill("input[name=title]", "东湖镇停水紧急通知")
    admin.fill("textarea[name=body]", "因主管道抢修，今日8时至18时全镇停水，请提前储水。")
    admin.screenshot(path=str(artifacts / "admin-emergency-1920x1080.png"), full_page=True)
    admin.click("button:has-text('立即发布紧急通知')")
    admin.wait_for_url(base + "/admin/emergency")
    assert "东湖镇停水紧急通知" in admin.inner_text("table.list")
    _wait_for(screen, "data-mode", lambda v: v == "emergency")
    assert "东湖镇停水紧急通知" in screen.inner_text("#deck")
    screen.screenshot(path=str(artifacts / "board-emergency-from-admin-1080x1920.png"))

    admin.click("button:has-text('解除')")
    admin.wait_for_url(base + "/admin/emergency")
    assert "已解除" in admin.inner_text("main")
    _wait_for(screen, "data-mode", lambda v: v != "emergency")
    assert not problems, problems
    for c in (screen_ctx, ctx):
        c.close()
