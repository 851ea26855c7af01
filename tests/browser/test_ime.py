"""Chinese by touch alone in real Chromium: a name written with a finger on the forms' writing
pad and finished in pinyin, submitted on /apply; pinyin candidates in search; the pad's screens
at every size, axe-core with the pad open, and a terminal without the handwriting model."""
from __future__ import annotations

import re
import shutil
import sqlite3

import pytest

from kiosk import handwriting
from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer
from tests.browser.test_citizen_browser import SMALL_TARGETS_LABELLED, keyboard, tap_keys
from tests.browser.test_touch import AXE_JS, SERIOUS, axe_page, set_elderly

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("model")]


@pytest.fixture
def model():
    if not handwriting.available():
        pytest.fail("libzinnia0 / tegaki-zinnia-simplified-chinese missing: run tools/system-deps.sh")

PHONE_VIEW = {"width": 390, "height": 844}
ID_OK, PHONE = "11010519491231002X", "13812345678"
# 王 in a 300 × 300 box, in the order people write it: 横, 横, 竖, 横.
WANG = [[(60, 60), (240, 60)], [(80, 150), (220, 150)], [(150, 60), (150, 250)],
        [(40, 250), (260, 250)]]


def touch_context(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def write(page, context, pad, strokes, box: float = 300) -> None:
    """Draw strokes with a finger: real touch events (Chromium's DevTools protocol), points
    every few pixels along each stroke, scaled from a box×box drawing onto the pad."""
    canvas = page.locator(f"{pad} .ime-canvas")
    canvas.evaluate("c => c.scrollIntoView({block: 'end'})")   # clear of a sticky top bar
    r = canvas.bounding_box()
    scale = r["width"] / box
    cdp = context.new_cdp_session(page)
    for stroke in strokes:
        points = []
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            points += [(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10) for i in range(11)]
        at = [{"x": r["x"] + x * scale, "y": r["y"] + y * scale} for x, y in points]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
        for p in at[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    # Each stroke is recognised as it ends; wait for the answer to the last one.
    page.wait_for_function("""scope => {
      const ime = document.querySelector(scope + ' .ime');
      return ime.querySelector('.ime-cand') && !ime.querySelector('.ime-status').textContent.includes('正在识别');
    }""", arg=pad)


def candidates(page, scope: str) -> list[str]:
    return page.locator(f"{scope} .ime-cand:not(.ime-more)").all_inner_texts()


def pick(page, scope: str, text: str) -> None:
    """Touch a candidate, turning the candidate row's pages (更多) until it shows."""
    cell = page.locator(f"{scope} .ime-cand[data-ime-text='{text}']")
    for _ in range(5):
        if cell.count():
            break
        page.locator(f"{scope} .ime-more").tap()
    cell.tap()


def test_apply_with_a_handwritten_name_by_touch_alone(live_server, browser, artifacts):
    context, page, errors = touch_context(browser, PORTRAIT)
    page.goto(live_server.url + "/apply")
    page.wait_for_selector("form.apply-form")
    page.locator("label.pick:has(input[value='自然人'])").tap()

    page.locator("#f-name").tap()
    kb = keyboard(page)
    assert kb.is_visible() and kb.get_attribute("data-ime-mode") == "hand"   # Chinese field: the pad
    assert kb.locator("[data-ime-mode='hand']").get_attribute("aria-pressed") == "true"
    assert kb.locator(".ime-canvas").bounding_box()["width"] >= 400          # room for a finger
    assert not kb.locator("[data-fkey='A']").is_visible()                     # letters out of the way
    write(page, context, "#fkb", WANG)
    got = candidates(page, "#fkb")
    assert got[0] == "王", got
    for cell in kb.locator(".ime-cand").all():
        box = cell.bounding_box()
        assert box["height"] >= 64 and box["width"] >= 64                     # large cells
    page.screenshot(path=str(artifacts / "ime-pad-written-1080x1920.png"))
    pick(page, "#fkb", "王")
    assert page.locator("#f-name").input_value() == "王"
    assert candidates(page, "#fkb") == []                                     # pad clear again
    assert page.evaluate("document.activeElement.id") == "f-name"             # focus stays

    # 重写 wipes a wrong character; 退格 takes one off the field.
    write(page, context, "#fkb", WANG[:2])
    kb.get_by_role("button", name=re.compile("重写")).tap()
    assert candidates(page, "#fkb") == []
    write(page, context, "#fkb", WANG)
    pick(page, "#fkb", "王")
    assert page.locator("#f-name").input_value() == "王王"
    kb.get_by_role("button", name=re.compile("退格")).tap()
    assert page.locator("#f-name").input_value() == "王"

    # The rest of the name in pinyin: letters typed in lower case; a name is no dictionary word,
    # so 小 takes "xiao" and "ming" stays for the next pick.
    kb.locator("[data-ime-mode='pinyin']").tap()
    assert kb.get_attribute("data-ime-mode") == "pinyin"
    tap_keys(page, "XIAOMING")
    assert page.locator("#f-name").input_value() == "王xiaoming"
    page.wait_for_function("() => document.querySelector('#fkb .ime-cand')")
    assert "小" in candidates(page, "#fkb")[:6]                               # on the first page
    pick(page, "#fkb", "小")
    assert page.locator("#f-name").input_value() == "王小ming"
    page.wait_for_selector("#fkb .ime-cand[data-ime-text='明']")               # first: ming
    pick(page, "#fkb", "明")
    assert page.locator("#f-name").input_value() == "王小明"

    page.locator("#f-id_number").tap()
    assert not kb.locator(".ime").is_visible()                                # numbers: keypad only
    tap_keys(page, ID_OK)
    page.locator("#f-phone").tap()
    tap_keys(page, PHONE)
    page.locator("#f-title").tap()
    assert kb.get_attribute("data-ime-mode") == "pinyin"                      # the chosen way stays
    tap_keys(page, "DIBAO")
    page.wait_for_selector("#fkb .ime-cand[data-ime-text='低保']")
    pick(page, "#fkb", "低保")
    tap_keys(page, "MINGDAN")
    page.wait_for_selector("#fkb .ime-cand[data-ime-text='名单']")
    pick(page, "#fkb", "名单")
    assert page.locator("#f-title").input_value() == "低保名单"
    tap_keys(page, ["done"])

    page.get_by_role("button", name="提交申请").tap()
    page.wait_for_url("**/apply/receipt")
    assert "政府信息公开申请回执" in page.locator("h1").inner_text()
    receipt = page.locator("[data-receipt]").inner_text().strip()
    assert receipt.startswith("YSQ-")
    page.screenshot(path=str(artifacts / "ime-apply-receipt-1080x1920.png"))
    conn = sqlite3.connect(live_server.data_dir / "kiosk.sqlite3")
    row = conn.execute("SELECT name, title FROM application WHERE receipt_no = ?", (receipt,)).fetchone()
    conn.close()
    assert row == ("王小明", "低保名单")
    assert not errors
    context.close()


def test_search_by_pinyin_and_by_hand(live_server, browser, artifacts):
    context, page, errors = touch_context(browser, PORTRAIT)
    page.goto(live_server.url + "/search")
    osk = page.locator(".osk")
    assert osk.get_attribute("data-ime-mode") == "pinyin"                     # search starts in pinyin
    assert page.locator("#q").get_attribute("inputmode") == "none"            # no system keyboard
    for k in "dibao":
        page.locator(f".osk [data-key='{k}']").tap()
    page.wait_for_selector(".osk .ime-cand[data-ime-text='低保']")
    page.screenshot(path=str(artifacts / "ime-search-pinyin-1080x1920.png"))
    pick(page, ".osk", "低保")
    assert page.locator("#q").input_value() == "低保"
    page.wait_for_function("() => document.querySelector('#search-results mark')")
    assert page.locator("#search-results mark").count() > 0                   # 低保 (最低生活保障) found

    osk.locator("[data-ime-mode='hand']").tap()
    assert not page.locator(".osk [data-key='a']").is_visible()
    write(page, context, ".osk", WANG)
    assert candidates(page, ".osk")[0] == "王"
    page.screenshot(path=str(artifacts / "ime-search-pad-1080x1920.png"))
    pick(page, ".osk", "王")
    assert page.locator("#q").input_value() == "低保王"
    assert not errors
    context.close()


@pytest.mark.parametrize("viewport,elderly", [(PORTRAIT, False), (PORTRAIT, True), (LANDSCAPE, False),
                                              (LANDSCAPE, True), (PHONE_VIEW, False)])
def test_pad_fits_and_is_large_at_every_size(live_server, browser, artifacts, viewport, elderly):
    """The pad, its candidates and 重写/退格 on screen and large enough for an elderly finger;
    the field written into stays visible."""
    context, page, errors = touch_context(browser, viewport)
    set_elderly(page, live_server.url, elderly)
    size = f"{viewport['width']}x{viewport['height']}" + ("-elderly" if elderly else "")
    target = 88 if elderly else 64
    if viewport is PHONE_VIEW:
        # A phone has its own keyboard, handwriting included: the kiosk's keys and pad give way.
        page.goto(live_server.url + "/search")
        assert page.locator("#q").get_attribute("inputmode") is None
        assert not page.locator(".osk").is_visible()
        assert not page.locator(".osk .ime-canvas").is_visible()
        page.screenshot(path=str(artifacts / f"ime-pad-{size}.png"))
        assert not errors
        context.close()
        return
    else:
        page.goto(live_server.url + "/apply")
        page.locator("#f-name").tap()
        scope = "#fkb"
    pad = page.locator(f"{scope} .ime-canvas")
    pad.evaluate("c => c.scrollIntoView({block: 'end'})")
    before = pad.bounding_box()
    write(page, context, scope, WANG)
    assert candidates(page, scope)[0] == "王"
    canvas = pad.bounding_box()
    assert canvas == before                       # nothing moved the pad while the finger wrote
    assert canvas["width"] >= (250 if viewport is PHONE_VIEW else 360)
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= viewport["width"]
    assert canvas["y"] + canvas["height"] <= viewport["height"] + 1
    for button in page.locator(f"{scope} .ime button:visible").all():
        box = button.bounding_box()
        assert box["height"] >= target - 1 and box["width"] >= 48, button.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    bar = page.locator(f"{scope} .ime-cands")
    assert bar.evaluate("b => b.scrollWidth <= b.clientWidth + 1")           # one row, nothing cut
    if scope == "#fkb":
        field = page.locator("#f-name").bounding_box()
        kb = page.locator("#fkb").bounding_box()
        assert field["y"] >= 0 and (field["y"] + field["height"] <= kb["y"] + 1
                                    or field["x"] + field["width"] <= kb["x"] + 1)
    page.screenshot(path=str(artifacts / f"ime-pad-{size}.png"))
    assert not errors
    context.close()


def test_axe_with_the_pad_open(live_server, browser):
    context, page = axe_page(browser, PORTRAIT)
    problems = []
    for elderly in (False, True):
        set_elderly(page, live_server.url, elderly)
        for path, scope, opener in (("/apply", "#fkb", "#f-name"),
                                    ("/search", ".osk", ".osk [data-ime-mode='hand']")):
            page.goto(live_server.url + path)
            page.locator(opener).tap()
            write(page, context, scope, WANG)
            page.add_script_tag(path=str(AXE_JS))
            problems += [f"{path}: {v}" for v in page.evaluate(SERIOUS)]
            problems += [f"{path}: target {t}" for t in page.evaluate(SMALL_TARGETS_LABELLED)]
    context.close()
    assert not problems, "\n".join(problems)


def test_without_the_model_no_pad_and_pinyin_still_works(tmp_path, demo_template, browser):
    data_dir = tmp_path / "no-model"
    shutil.copytree(demo_template, data_dir)
    with (data_dir / "kiosk.toml").open("a", encoding="utf-8") as f:
        f.write(f'handwriting_model = "{data_dir / "missing.model"}"\n')
    server = LiveServer(data_dir).start()
    try:
        context, page, errors = touch_context(browser, PORTRAIT)
        page.goto(server.url + "/apply")
        page.locator("#f-name").tap()
        kb = keyboard(page)
        assert kb.get_attribute("data-ime-mode") == "pinyin"
        assert kb.locator("[data-ime-mode='hand']").count() == 0
        assert kb.locator(".ime-canvas").count() == 0
        tap_keys(page, "WANG")
        page.wait_for_selector("#fkb .ime-cand[data-ime-text='王']")
        pick(page, "#fkb", "王")
        assert page.locator("#f-name").input_value() == "王"
        assert not errors
        context.close()
    finally:
        server.stop()


def test_opinion_on_a_draft_written_by_hand(live_server, browser):
    """征求意见: the opinion box gets the same pad; the written character is submitted."""
    context, page, errors = touch_context(browser, PORTRAIT)
    page.goto(live_server.url + "/consultations")
    page.locator("a.consult-card:has(.tag-open)").first.tap()
    page.wait_for_selector("form.opinion-form")
    page.locator("#f-body").tap()
    assert keyboard(page).get_attribute("data-ime-mode") == "hand"
    write(page, context, "#fkb", WANG)
    pick(page, "#fkb", "王")
    tap_keys(page, ["done"])
    assert page.locator("#f-body").input_value() == "王"
    page.get_by_role("button", name="提交意见").tap()
    page.wait_for_selector(".rate-thanks")
    assert not errors
    context.close()
