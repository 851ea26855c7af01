"""A resident applies for information on a portrait kiosk by touch alone: the on-screen keyboard
for numbers, the kiosk's own input method (keyboard.insert_text) for Chinese (the keyboard's
writing pad and pinyin are tests/browser/test_ime.py); gets the receipt with its QR,
follows it, rates a guide and gives an opinion; screenshots and axe-core for review."""
from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from content import timelimits
from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.browser.test_touch import AXE_JS, SERIOUS, SMALL_TARGETS, axe_page, set_elderly

# A radio button or checkbox is touched through its whole label (label.pick, 64 px high).
SMALL_TARGETS_LABELLED = SMALL_TARGETS.replace(
    "const r = el.getBoundingClientRect();",
    "const r = (el.matches('input[type=radio], input[type=checkbox]') && el.closest('label') || el)"
    ".getBoundingClientRect();")
assert SMALL_TARGETS_LABELLED != SMALL_TARGETS

pytestmark = pytest.mark.browser

NAME, ID_OK, PHONE = "王小明", "11010519491231002X", "13812345678"


def applications(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "kiosk.sqlite3")
    try:
        return conn.execute("SELECT count(*) FROM application").fetchone()[0]
    finally:
        conn.close()


def portrait_touch(browser):
    """A portrait kiosk with a touchscreen: (context, page, the page's script errors)."""
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def keyboard(page):
    return page.locator("#fkb")


def tap_keys(page, keys) -> None:
    """Type by touching the on-screen keys (a key may be a word such as 'YSQ-' or '号')."""
    for key in keys:
        page.locator(f"#fkb [data-fkey='{key}']:visible").tap()


def ime(page, selector: str, text: str) -> None:
    """Touch a field and enter Chinese the way the kiosk's pinyin input method delivers it."""
    page.locator(selector).tap()
    page.keyboard.insert_text(text)


def assert_clear_of_keyboard(page, selector: str) -> None:
    """The field is on screen, below the top bar and clear of the open keyboard (docked at the
    bottom in portrait, on the right in landscape)."""
    kb = keyboard(page).bounding_box()
    bar = page.locator(".topbar").bounding_box()
    box = page.locator(selector).bounding_box()
    view = page.viewport_size
    assert kb is not None and kb["y"] + kb["height"] == pytest.approx(view["height"], abs=1)
    assert box["y"] >= bar["y"] + bar["height"] - 1, f"{selector} is under the top bar"
    assert box["y"] + box["height"] <= view["height"] and box["x"] >= 0
    beside = box["x"] + box["width"] <= kb["x"] + 1
    above = box["y"] + box["height"] <= kb["y"] + 1
    assert beside or above, f"{selector} is under the keyboard"


def test_apply_at_portrait_kiosk_on_the_on_screen_keyboard(live_server, browser, artifacts):
    context, page, errors = portrait_touch(browser)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile("依申请公开")).tap()
    page.wait_for_url("**/apply")
    page.wait_for_selector("form.apply-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    assert not keyboard(page).is_visible()
    # Organisation choices stay hidden for a natural person.
    assert not page.locator("label.pick:has(input[value='科研机构'])").is_visible()
    before = applications(live_server.data_dir)

    page.locator("label.pick:has(input[value='自然人'])").tap()
    ime(page, "#f-name", NAME)
    assert keyboard(page).is_visible()                      # Chinese fields: the writing pad first
    assert keyboard(page).locator(".ime-canvas").is_visible()
    assert page.locator("#ime-name").is_visible()

    # The ID number on the keypad: digits and X only, large keys.
    page.locator("#f-id_number").tap()
    assert page.evaluate("document.activeElement.id") == "f-id_number"
    assert_clear_of_keyboard(page, "#f-id_number")
    assert keyboard(page).locator(".fkb-pad").is_visible()
    assert keyboard(page).locator("[data-fkey='X']:visible").count() == 1
    assert keyboard(page).locator("[data-fkey='A']:visible").count() == 0
    assert keyboard(page).locator("[data-fkey='5']:visible").bounding_box()["height"] >= 64
    page.screenshot(path=str(artifacts / "apply-keypad-1080x1920.png"))
    tap_keys(page, "1101")
    tap_keys(page, ["del"])                                 # backspace
    assert page.locator("#f-id_number").input_value() == "110"
    tap_keys(page, ["clear"])                               # clear
    assert page.locator("#f-id_number").input_value() == ""
    tap_keys(page, "110105194912310021")                    # wrong check digit
    assert page.locator("#f-id_number").input_value() == "110105194912310021"
    assert page.evaluate("document.activeElement.id") == "f-id_number"   # keys keep the focus

    # The keyboard types into whichever field has focus.
    page.locator("#f-phone").tap()
    assert_clear_of_keyboard(page, "#f-phone")
    assert keyboard(page).locator("[data-fkey='-']:visible").count() == 1   # landlines: 0554-…
    assert keyboard(page).locator("[data-fkey='X']:visible").count() == 0
    tap_keys(page, PHONE)
    assert page.locator("#f-phone").input_value() == PHONE
    assert page.locator("#f-id_number").input_value() == "110105194912310021"

    # Letters and @ . for the e-mail; digits and letters for the address's numbers.
    page.locator("#f-email").tap()
    assert_clear_of_keyboard(page, "#f-email")
    tap_keys(page, ["W", "X", "M", "@qq.com"])
    assert page.locator("#f-email").input_value() == "wxm@qq.com"
    ime(page, "#f-address", "淮川县东湖镇杏花村")
    assert_clear_of_keyboard(page, "#f-address")
    keyboard(page).locator("[data-ime-mode='abc']").tap()   # letters and digits, as typed
    assert keyboard(page).locator(".fkb-ime").is_visible()  # and how to get Chinese back
    tap_keys(page, ["3", "组", "1", "2", "号", "B"])
    assert page.locator("#f-address").input_value() == "淮川县东湖镇杏花村3组12号B"
    page.screenshot(path=str(artifacts / "apply-keyboard-1080x1920.png"))
    ime(page, "#f-title", "2025年杏花村低保审核名单")
    assert_clear_of_keyboard(page, "#f-title")
    ime(page, "#f-description", "杏花村2025年第三季度低保对象审核、公示的名单")
    assert_clear_of_keyboard(page, "#f-description")
    tap_keys(page, ["done"])
    assert not keyboard(page).is_visible()

    page.locator("label.pick:has(input[value='纸质'])").tap()
    page.locator("label.pick:has(input[value='邮寄'])").tap()
    assert not keyboard(page).is_visible()                  # a choice takes the focus: keyboard away
    page.get_by_role("button", name="提交申请").tap()
    page.wait_for_selector(".error-summary")
    id_error = page.locator("#err-id_number")
    assert "身份证号码不正确" in id_error.inner_text() and id_error.is_visible()
    # next to its field: between the label and the box
    label_y = page.locator("label[for='f-id_number']").bounding_box()["y"]
    field_y = page.locator("#f-id_number").bounding_box()["y"]
    assert label_y < id_error.bounding_box()["y"] < field_y
    assert applications(live_server.data_dir) == before     # nothing stored
    assert page.locator("#f-name").input_value() == NAME    # nothing to type again
    assert page.locator("#f-address").input_value() == "淮川县东湖镇杏花村3组12号B"
    page.screenshot(path=str(artifacts / "apply-errors-1080x1920.png"), full_page=True)

    page.locator("#f-id_number").tap()
    assert_clear_of_keyboard(page, "#f-id_number")
    tap_keys(page, ["clear", *ID_OK])
    assert page.locator("#f-id_number").input_value() == ID_OK
    tap_keys(page, ["done"])
    submit = page.get_by_role("button", name="提交申请")
    submit.scroll_into_view_if_needed()
    submit.tap()
    page.wait_for_selector(".slip")
    assert applications(live_server.data_dir) == before + 1

    receipt = page.locator("[data-receipt]").inner_text().strip()
    assert re.fullmatch(r"YSQ-\d{8}-\d{4}", receipt)
    received = page.locator(".slip-fields dt:text-is('收到申请日期') + dd").inner_text().strip()
    assert received == date.today().isoformat()
    due = timelimits.add_workdays(date.fromisoformat(received), 20)   # 20 working days, art. 33
    assert page.locator(".slip-fields dt:text-is('法定答复期限') + dd strong").inner_text() == due.isoformat()
    body = page.locator("main").inner_text()
    assert NAME not in body and PHONE not in body and ID_OK not in body
    qr = page.locator(".slip-qr img")
    qr.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('.slip-qr img').complete && "
                           "document.querySelector('.slip-qr img').naturalWidth > 0")
    page.screenshot(path=str(artifacts / "receipt-1080x1920.png"), full_page=True)
    qr.screenshot(path=str(artifacts / "receipt-qr.png"))
    found = zxingcpp.read_barcodes(Image.open(artifacts / "receipt-qr.png"))
    assert found, "the receipt's QR code does not decode"
    url = found[0].text
    parts = urlsplit(url)
    # The county's public address (the demo's is fictional), never the kiosk's own 127.0.0.1.
    assert url.startswith("https://gk.huaichuan.example/apply/status")
    assert parse_qs(parts.query)["receipt"] == [receipt]

    # The printed slip: receipt number, dates and QR; no kiosk chrome, buttons or keyboard.
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.locator("[data-print]").is_visible()
    assert page.locator(".slip").is_visible() and page.locator(".slip-qr img").is_visible()
    page.emulate_media(media="screen")
    page.set_viewport_size(LANDSCAPE)
    page.screenshot(path=str(artifacts / "receipt-1920x1080.png"), full_page=True)
    page.set_viewport_size(PORTRAIT)

    # The status lookup, both fields on the on-screen keyboard.
    page.goto(live_server.url + "/apply/status")
    page.locator("#f-receipt").tap()
    assert_clear_of_keyboard(page, "#f-receipt")
    tap_keys(page, ["YSQ-", *receipt.removeprefix("YSQ-")])
    assert page.locator("#f-receipt").input_value() == receipt
    page.locator("#f-tail").tap()
    assert keyboard(page).locator(".fkb-pad").is_visible()
    tap_keys(page, PHONE[-4:])
    assert page.locator("#f-tail").input_value() == PHONE[-4:]
    page.screenshot(path=str(artifacts / "status-keyboard-1080x1920.png"))
    page.get_by_role("button", name="查询").tap()
    page.wait_for_selector(".lookup-result")
    assert "已登记，等待审核" in page.locator(".lookup-result").inner_text()
    shown = page.content()
    for private in (NAME, ID_OK, PHONE, "淮川县东湖镇杏花村3组", "wxm@qq.com"):
        assert private not in shown
    page.screenshot(path=str(artifacts / "status-1080x1920.png"), full_page=True)
    assert not errors
    context.close()


@pytest.mark.parametrize("viewport,elderly", [(PORTRAIT, False), (LANDSCAPE, False),
                                              (PORTRAIT, True), (LANDSCAPE, True)])
def test_keyboard_fits_every_screen(live_server, browser, artifacts, viewport, elderly):
    """Keys on screen and large, the focused field and the submit button reachable above the
    keyboard, in both orientations and in 适老化 mode."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
    page = context.new_page()
    set_elderly(page, live_server.url, elderly)
    page.goto(live_server.url + "/apply")
    size = f"{viewport['width']}x{viewport['height']}" + ("-elderly" if elderly else "")
    for selector, layout in (("#f-name", "text"), ("#f-id_number", "id"), ("#f-email", "email"),
                             ("#f-doc_number", "docno"), ("#f-description", "text")):
        page.locator(selector).tap()
        assert keyboard(page).get_attribute("data-layout") == layout
        assert_clear_of_keyboard(page, selector)
        keys = keyboard(page).locator("button:visible")
        for i in range(keys.count()):
            box = keys.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], keys.nth(i).inner_text()
            assert box["height"] >= (88 if elderly else 64) - 1 and box["width"] >= 48
        if selector in ("#f-id_number", "#f-email"):
            page.screenshot(path=str(artifacts / f"apply-kb-{layout}-{size}.png"))
    # The last field: the submit button can still be brought clear of the open keyboard.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert_clear_of_keyboard(page, ".submit-row button")
    context.close()


def test_axe_on_apply_with_the_keyboard_open(live_server, browser):
    context, page = axe_page(browser, PORTRAIT)
    problems = []
    for elderly in (False, True):
        set_elderly(page, live_server.url, elderly)
        for path, selector in (("/apply", "#f-id_number"), ("/apply", "#f-address"),
                               ("/apply/status", "#f-receipt")):
            page.goto(live_server.url + path)
            page.locator(selector).tap()
            assert keyboard(page).is_visible()
            page.add_script_tag(path=str(AXE_JS))
            problems += [f"{path} {selector}: {v}" for v in page.evaluate(SERIOUS)]
            problems += [f"{path} {selector}: target {t}" for t in page.evaluate(SMALL_TARGETS_LABELLED)]
    context.close()
    assert not problems, "\n".join(problems)


def test_organisation_picks_its_code_type(live_server, browser):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/apply")
    page.locator("label.pick:has(input[value='法人或其他组织'])").tap()
    assert page.locator("label.pick:has(input[value='科研机构'])").is_visible()
    assert page.locator("input[value='统一社会信用代码']").is_checked()
    assert not page.locator("label.pick:has(input[value='居民身份证'])").is_visible()
    # A credit code has letters: the ID number gets the full keyboard instead of the keypad.
    page.locator("#f-id_number").tap()
    assert keyboard(page).get_attribute("data-layout") == "code"
    tap_keys(page, "91110000600037341L")
    assert page.locator("#f-id_number").input_value() == "91110000600037341L"
    context.close()


def test_rating_and_opinion_by_touch_and_input_method(live_server, browser, artifacts):
    """Ratings and opinions at the kiosk: comments take the input method's text, buttons a tap."""
    context, page, errors = portrait_touch(browser)
    page.goto(live_server.url + "/guides")
    page.locator("main a.card[href^='/guides/']").first.tap()
    page.wait_for_selector("section.rate")
    page.evaluate("window.__marker = 1")                  # survives only if the page is not reloaded
    ime(page, "section.rate textarea", "窗口排队太久")
    assert page.locator("section.rate textarea").input_value() == "窗口排队太久"
    page.locator("section.rate").get_by_role("button", name="基本满意").tap()
    page.wait_for_selector("section.rate-thanks")
    assert "谢谢您的评价" in page.locator("section.rate-thanks").inner_text()
    assert "留言将转给有关部门" in page.locator("section.rate-thanks").inner_text()
    assert page.evaluate("window.__marker") == 1
    page.screenshot(path=str(artifacts / "rated-1080x1920.png"), full_page=True)

    page.goto(live_server.url + "/consultations")
    page.screenshot(path=str(artifacts / "consultations-1080x1920.png"), full_page=True)
    page.locator("a.consult-card:has(.tag-open)").first.tap()
    page.wait_for_selector("form.opinion-form")
    assert page.locator("#ime-body").is_visible()
    ime(page, "#f-body", "建议在每个村设置")
    assert keyboard(page).is_visible()
    assert_clear_of_keyboard(page, "#f-body")
    tap_keys(page, "2")                                   # numbers from the on-screen keys
    page.keyboard.insert_text("个有害垃圾回收点")
    assert page.locator("#f-body").input_value() == "建议在每个村设置2个有害垃圾回收点"
    page.screenshot(path=str(artifacts / "opinion-keyboard-1080x1920.png"))
    tap_keys(page, ["done"])
    page.get_by_role("button", name="提交意见").tap()
    page.wait_for_selector(".rate-thanks")
    page.screenshot(path=str(artifacts / "opinion-1080x1920.png"), full_page=True)
    conn = sqlite3.connect(live_server.data_dir / "kiosk.sqlite3")
    assert conn.execute("SELECT count(*) FROM consultation_response WHERE body = ?",
                        ("建议在每个村设置2个有害垃圾回收点",)).fetchone()[0] == 1
    conn.close()
    page.set_viewport_size(LANDSCAPE)
    page.goto(live_server.url + "/consultations")
    page.locator("a.consult-card:has(.tag-result)").first.tap()
    page.wait_for_selector(".result-box")
    page.screenshot(path=str(artifacts / "consultation-result-1920x1080.png"), full_page=True)
    assert not errors
    context.close()


def test_key_touched_while_the_input_method_composes_waits(live_server, browser, artifacts):
    """Pinyin typed but no characters chosen yet: an on-screen key would land inside the
    composition, so the touch is refused with a hint; once the characters are chosen, it types."""
    context, page, errors = portrait_touch(browser)
    page.goto(live_server.url + "/consultations")
    page.locator("a.consult-card:has(.tag-open)").first.tap()
    page.wait_for_selector("form.opinion-form")
    ime(page, "#f-body", "建议设置")
    cdp = context.new_cdp_session(page)
    # A real composition in Chromium, as the kiosk's pinyin input method starts one.
    cdp.send("Input.imeSetComposition", {"text": "ge", "selectionStart": 2, "selectionEnd": 2})
    hint = page.locator("#fkb .fkb-composing")
    assert not hint.is_visible()
    tap_keys(page, "2")
    assert hint.is_visible()
    assert "请先在输入法中选好汉字" in hint.inner_text()
    page.screenshot(path=str(artifacts / "keyboard-while-composing-1080x1920.png"))
    page.keyboard.insert_text("个")                      # the resident picks 个: composition ends
    assert page.locator("#f-body").input_value() == "建议设置个"
    assert not hint.is_visible()
    tap_keys(page, "2")
    assert page.locator("#f-body").input_value() == "建议设置个2"
    assert not errors
    context.close()
