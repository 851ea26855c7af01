"""A policy with its Q&A cards is on the kiosk and on a board: the real server, Chromium."""
from __future__ import annotations

import shutil
import time

import pytest

from content import db
from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer
from tests.browser.test_boards import _CUT_OFF

pytestmark = pytest.mark.browser

TITLE = "淮川县城乡居民最低生活保障实施办法"
QUESTION = "到哪里申请？"
ANSWER = "乡镇人民政府（街道办事处）便民服务中心"


@pytest.fixture
def server(tmp_path, demo_template):
    data_dir = tmp_path / "live"
    shutil.copytree(demo_template, data_dir)
    with (data_dir / "kiosk.toml").open("a") as f:
        f.write('public_url = "https://gk.huaichuan.example"\n')
    conn = db.connect(data_dir / "kiosk.sqlite3")
    # Without the demo's seasonal emergency the boards rotate; quick slides for the test.
    conn.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")
    conn.execute("UPDATE board SET windows = '[]', slide_seconds = 0.4")
    conn.close()
    s = LiveServer(data_dir).start()
    yield s
    s.stop()


def test_a_resident_finds_a_policy_and_opens_its_qa_cards(server, browser, artifacts):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.locator(".tile", has_text="政策文件").tap()
    page.wait_for_url("**/policies")
    page.locator(".chip", has_text="淮川县人民政府").first.tap()
    page.wait_for_url("**/policies?issuer=*")
    assert page.locator(".policy-card").count() == 1
    page.locator(".policy-card", has_text=TITLE).tap()
    page.wait_for_url("**/policies/*")
    assert page.locator("h1").inner_text() == TITLE
    assert page.locator(".policy-meta").inner_text().count("淮川政〔2024〕8号") == 1
    card = page.locator(".qa-card", has_text=QUESTION)
    answer = card.locator(".qa-a")
    assert answer.is_hidden()                     # closed until touched
    card.locator("summary").tap()
    answer.wait_for(state="visible")
    assert ANSWER in answer.inner_text()
    box = card.locator("summary").bounding_box()
    assert box["height"] >= 64 and box["width"] >= 600   # a large card, not a small link
    assert page.locator(".interpretation", has_text="致全县城乡居民的一封信").is_visible()
    assert page.locator(".qr-card img").count() == 1
    page.screenshot(path=str(artifacts / "policy-qa-1080x1920.png"), full_page=True)
    # The document is reachable from its catalogue item's page, and by search.
    page.locator(".chip", has_text="最低生活保障 · 办事指南").tap()
    page.wait_for_url("**/items/*")
    page.locator(".policy-card", has_text=TITLE).tap()
    page.wait_for_url("**/policies/*")
    page.goto(server.url + "/search?q=" + "淮川政〔2024〕8号")
    assert page.locator(".result-policy", has_text=TITLE).count() == 1
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("slug,viewport,size", [("county-hall", LANDSCAPE, "1920x1080"),
                                                ("xinghuacun", PORTRAIT, "1080x1920")])
def test_a_board_rotates_a_qa_card_question_large_answer_below(server, browser, artifacts, slug, viewport, size):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + f"/display/{slug}")
    qa = page.locator("#deck .slide-qa")
    assert qa.count() >= 2
    deadline = time.monotonic() + 60
    seen = set()
    while len(seen) < qa.count() and time.monotonic() < deadline:
        active = page.locator("#deck .slide-qa.is-active")
        if active.count():
            key, bad, _fit = page.evaluate(_CUT_OFF)
            assert bad == [], bad
            if key not in seen:
                question = active.locator(".qa-question")
                answer = active.locator(".qa-answer")
                q_box, a_box = question.bounding_box(), answer.bounding_box()
                assert q_box["y"] + q_box["height"] <= a_box["y"] + 1          # the answer below
                q_size = float(question.evaluate("e => getComputedStyle(e).fontSize")[:-2])
                a_size = float(answer.evaluate("e => getComputedStyle(e).fontSize")[:-2])
                assert q_size > a_size                                         # the question large
                assert answer.inner_text().strip()
                assert active.locator(".slide-qr img").is_visible()
                if not seen:
                    page.screenshot(path=str(artifacts / f"board-qa-{size}.png"))
                seen.add(key)
        page.wait_for_timeout(60)
    assert len(seen) == qa.count()
    context.close()


ADMIN = {"width": 1366, "height": 768}


def test_staff_write_a_policy_with_its_qa_in_the_admin(server, browser, artifacts):
    """The edit form at 1366×768: refused without a 解读, accepted with one; the dashboard's figures."""
    from tests.browser.staff import csp_watch, login
    context = browser.new_context(viewport=ADMIN, locale="zh-CN")
    page = context.new_page()
    csp = csp_watch(page)
    login(page, server.url, "county-admin")
    page.goto(server.url + "/admin/policies/new")
    page.select_option("#f-jurisdiction_code", "340499000000")
    page.fill("#f-title", "淮川县高龄津贴发放办法")
    page.fill("#f-doc_number", "淮川民〔2025〕11号")
    page.fill("#f-issuer", "淮川县民政局")
    page.fill("#f-issued_on", "2025-06-01")
    page.screenshot(path=str(artifacts / "admin-policy-new-1366x768.png"), full_page=True)
    page.locator("button[value=submit]").click()
    assert "同步审签、同步发布" in page.locator(".flash-error").inner_text()
    page.locator("a.button", has_text="继续编辑").click()
    page.select_option("#i-0-form", "简明问答")
    page.fill("#i-0-title", "高龄津贴问答")
    page.fill("#i-0-qa", "问：几岁能领？\n答：年满80周岁的本县户籍老人。")
    page.locator("button[value=submit]").click()
    assert page.locator(".flash", has_text="已提交审核").count() == 1
    page.screenshot(path=str(artifacts / "admin-policy-detail-1366x768.png"), full_page=True)
    page.goto(server.url + "/admin/assessment/#policy")
    section = page.locator("#policy")
    assert "滞后发布的政策解读" in section.inner_text() and "耕地地力保护补贴" in section.inner_text()
    section.screenshot(path=str(artifacts / "admin-assessment-policy-1366x768.png"))
    assert not csp, csp
    context.close()
