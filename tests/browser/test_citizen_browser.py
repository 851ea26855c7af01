"""A resident applies for information on a portrait kiosk by tapping, gets the receipt with its QR,
follows it, rates a guide (htmx thank-you) and gives an opinion; screenshots for review."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image

from tests.browser.conftest import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.browser


def tap_and_type(page, selector: str, text: str) -> None:
    page.tap(selector)
    page.keyboard.type(text)


def test_apply_at_portrait_kiosk_by_tapping(live_server, browser, artifacts):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile("依申请公开")).tap()
    page.wait_for_url("**/apply")
    page.wait_for_selector("form.apply-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    page.screenshot(path=str(artifacts / "apply-1080x1920.png"), full_page=True)

    # Organisation choices stay hidden for a natural person.
    assert not page.locator("label.pick:has(input[value='科研机构'])").is_visible()
    tap_and_type(page, "#f-name", "王小明")
    tap_and_type(page, "#f-id_number", "110105194912310021")       # wrong check digit
    tap_and_type(page, "#f-phone", "13812345678")
    tap_and_type(page, "#f-title", "2025年杏花村低保审核名单")
    page.locator("label.pick:has(input[value='邮寄'])").tap()        # needs an address: forgotten
    page.get_by_role("button", name="提交申请").tap()
    page.wait_for_selector(".error-summary")
    id_error = page.locator("#err-id_number")
    assert "身份证号码不正确" in id_error.inner_text() and id_error.is_visible()
    assert "请填写通信地址" in page.locator("#err-address").inner_text()
    assert page.locator("#f-name").input_value() == "王小明"         # nothing to type again
    page.screenshot(path=str(artifacts / "apply-errors-1080x1920.png"), full_page=True)

    page.fill("#f-id_number", "")
    tap_and_type(page, "#f-id_number", "11010519491231002X")
    tap_and_type(page, "#f-address", "淮川县东湖镇杏花村3组")
    page.get_by_role("button", name="提交申请").tap()
    page.wait_for_selector(".slip")
    receipt = page.locator("[data-receipt]").inner_text().strip()
    assert re.fullmatch(r"YSQ-\d{8}-\d{4}", receipt)
    body = page.locator(".slip").inner_text()
    assert "法定答复期限" in body and "王小明" not in body and "13812345678" not in body
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
    assert parts.scheme == "http" and url.startswith(live_server.url + "/apply/status")
    assert parse_qs(parts.query)["receipt"] == [receipt]

    # The printed slip hides the kiosk chrome and buttons.
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible() and not page.locator("[data-print]").is_visible()
    assert page.locator(".slip").is_visible()
    page.emulate_media(media="screen")

    # Follow it from the QR's address, as a phone would.
    page.goto(url)
    assert page.locator("#f-receipt").input_value() == receipt
    tap_and_type(page, "#f-tail", "5678")
    page.get_by_role("button", name="查询").tap()
    page.wait_for_selector(".lookup-result")
    assert "已登记，等待审核" in page.locator(".lookup-result").inner_text()
    page.screenshot(path=str(artifacts / "status-1080x1920.png"), full_page=True)
    assert not errors
    context.close()


def test_organisation_picks_its_code_type(live_server, browser):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/apply")
    page.locator("label.pick:has(input[value='法人或其他组织'])").tap()
    assert page.locator("label.pick:has(input[value='科研机构'])").is_visible()
    assert page.locator("input[value='统一社会信用代码']").is_checked()
    assert not page.locator("label.pick:has(input[value='居民身份证'])").is_visible()
    context.close()


def test_rating_thanks_in_place_and_opinion(live_server, page, artifacts):
    page.goto(live_server.url + "/guides")
    page.locator("main a.card[href^='/guides/']").first.click()
    page.wait_for_selector("section.rate")
    page.evaluate("window.__marker = 1")                  # survives only if the page is not reloaded
    page.locator("section.rate textarea").fill("窗口排队太久")
    page.locator("section.rate").get_by_role("button", name="基本满意").click()
    page.wait_for_selector("section.rate-thanks")
    assert "谢谢您的评价" in page.locator("section.rate-thanks").inner_text()
    assert page.evaluate("window.__marker") == 1
    page.screenshot(path=str(artifacts / "rated-1920x1080.png"), full_page=True)

    page.goto(live_server.url + "/consultations")
    page.screenshot(path=str(artifacts / "consultations-1920x1080.png"), full_page=True)
    page.locator("a.consult-card:has(.tag-open)").first.click()
    page.wait_for_selector("form.opinion-form")
    page.fill("#f-body", "建议在每个村设置有害垃圾回收点")
    page.get_by_role("button", name="提交意见").click()
    page.wait_for_selector(".rate-thanks")
    page.screenshot(path=str(artifacts / "opinion-1920x1080.png"), full_page=True)
    page.goto(live_server.url + "/consultations")
    page.locator("a.consult-card:has(.tag-result)").first.click()
    page.wait_for_selector(".result-box")
    assert page.viewport_size == LANDSCAPE
    page.screenshot(path=str(artifacts / "consultation-result-1920x1080.png"), full_page=True)
    assert not page.js_errors
