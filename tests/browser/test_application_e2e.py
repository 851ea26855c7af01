"""依申请 through to the end, in Chromium against the real server: a resident applies at the
kiosk (seeing what is already published while typing, choosing the 受理机关), staff transfer it
(转办), answer, print the 答复书, upload the stamped scan, record 送达 (refused without the
signature), archive it, record a 行政复议, and take the yearly tables from the dashboard as
.xlsx, whose numbers are checked with openpyxl.  Screenshots of /apply at every kiosk size and
of the admin pages and the letter (A4) go to tests/artifacts/ for review."""
from __future__ import annotations

import re
from datetime import date

import openpyxl
import pytest

from content import annual_report, db
from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.browser.staff import login
from tests.browser.test_screens import PHONE
from tests.browser.test_touch import set_elderly
from tests.pdf_util import benign

pytestmark = pytest.mark.browser

TITLE = "2025年东湖镇耕地地力保护补贴发放名单"
ADMIN = {"width": 1366, "height": 768}
A4 = {"width": 794, "height": 1123}       # 210 × 297 mm at 96 dpi


def _fill_application(page) -> None:
    page.fill("#f-name", "王小明")
    page.fill("#f-id_number", "11010519491231002X")
    page.fill("#f-phone", "13812345678")
    page.locator("#f-title").click()
    page.keyboard.insert_text(TITLE)          # as the kiosk's input method delivers Chinese


def test_application_from_kiosk_through_transfer_reply_delivery_to_archive_and_yearly_tables(
        live_server, browser, artifacts, tmp_path):
    base = live_server.url
    kiosk = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = kiosk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/apply")
    _fill_application(page)
    # While typing, what is already published shows (htmx); the resident may still apply.
    page.wait_for_selector(".suggest-box")
    assert "耕地地力" in page.locator(".suggest-box").inner_text()
    page.locator(".suggest-box").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "apply-suggest-1080x1920.png"))
    # The 受理机关: a county department, behind its own fold.
    page.locator(".organ-departments > summary").click()
    page.locator(".organ-departments label.pick", has_text="淮川县财政局").click()
    page.locator("button[type=submit]", has_text="提交申请").click()
    page.wait_for_url("**/apply/receipt")
    receipt = re.search(r"YSQ-\d{8}-\d{4}", page.content()).group(0)
    assert errors == []
    kiosk.close()

    staff_ctx = browser.new_context(viewport=ADMIN, locale="zh-CN")
    staff = staff_ctx.new_page()
    login(staff, base, "county-admin")
    staff.goto(base + "/admin/applications/")
    staff.locator("a", has_text=receipt).click()
    assert "受理机关：淮川县财政局" in staff.locator(".organ-line").inner_text()
    due = staff.locator("dt:has-text('答复期限') + dd strong").inner_text()

    # 转办 to the township; the due date stays.
    transfer = staff.locator("form", has=staff.locator("legend", has_text="转办"))
    transfer.locator("select[name=organ]").select_option(label="东湖镇人民政府")
    transfer.locator("input[name=reason]").fill("补贴发放名单由东湖镇人民政府制作并保存")
    transfer.locator("button", has_text="转办").click()
    staff.wait_for_selector(".flash")
    assert "已转办至东湖镇人民政府" in staff.locator(".flash").first.inner_text()
    assert staff.locator("dt:has-text('答复期限') + dd strong").inner_text() == due

    def step(action: str, fill=None) -> None:
        form = staff.locator("form.step-form", has=staff.get_by_text(action, exact=True))
        if fill:
            fill(form)
        form.locator("button.primary").click()
        staff.wait_for_load_state()

    step("开始审核")
    step("转入办理")
    step("答复", lambda f: f.locator("input[name=outcome][value='予以公开']").check())
    assert "尚未送达" in staff.locator("dl.fields").first.inner_text()
    assert staff.locator("legend", has_text="归档").count() == 0   # not offered before 送达

    # The 答复书, filled from the application and stored; printed on A4.
    letter_form = staff.locator("form", has=staff.locator("legend", has_text="出具文书"))
    letter_form.locator("button").click()
    staff.wait_for_url("**/letters/*")
    body = staff.locator("article.letter").inner_text()
    assert "政府信息公开申请答复书" in body and "王小明" in body and "东湖镇人民政府" in body
    assert "第三十六条第（二）项" in body and TITLE in body
    letter_url = staff.url
    staff.set_viewport_size(A4)
    staff.screenshot(path=str(artifacts / "application-letter-a4.png"), full_page=True)
    staff.emulate_media(media="print")
    staff.pdf(path=str(artifacts / "application-letter.pdf"), format="A4", print_background=True)
    staff.emulate_media(media="screen")
    staff.set_viewport_size(ADMIN)
    staff.locator("a", has_text="返回申请").click()

    # The stamped reply, scanned back in.
    scan = tmp_path / "答复书盖章件.pdf"
    scan.write_bytes(benign(1))
    staff.set_input_files("input[name=file]", str(scan))
    staff.locator("form[enctype] button", has_text="上传").click()
    staff.wait_for_selector(".flash")
    assert "已上传" in staff.locator(".flash").first.inner_text()

    # 送达 in person needs the signature; then 归档.
    step("送达", lambda f: f.locator("input[name=method][value='当面']").check())
    assert "当面送达须由申请人在送达回证上签字" in staff.locator(".flash").first.inner_text()

    def signed(f):
        f.locator("input[name=method][value='当面']").check()
        f.locator("input[name=signed]").check()
    step("送达", signed)
    assert "申请人已签收" in staff.locator("dl.fields").first.inner_text()
    step("归档")
    assert "· 归档" in staff.locator("h1").inner_text()

    # A 行政复议, decided: 维持.
    today = date.today().isoformat()
    appeal = staff.locator("form", has=staff.locator("legend", has_text="登记复议或诉讼"))
    appeal.locator("input[name=kind][value='行政复议']").check()
    appeal.locator("input[name=filed_on]").fill(today)
    appeal.locator("input[name=body]").fill("淮川县人民政府")
    appeal.locator("button.primary").click()
    staff.wait_for_load_state()
    staff.locator("table.appeals form button", has_text="记录结果").click()
    staff.wait_for_load_state()
    assert "维持" in staff.locator("table.appeals").inner_text()
    staff.screenshot(path=str(artifacts / "application-admin-1366x768.png"), full_page=True)
    # The letter reprints unchanged.
    staff.goto(letter_url)
    assert "王小明" in staff.locator("article.letter").inner_text()

    # The yearly tables on the dashboard, and as .xlsx.
    year = date.today().year
    staff.goto(base + f"/admin/assessment/?code=340499100000&from={year}-01-01&to={today}")
    section = staff.locator("#annual-report")
    assert f"东湖镇，{year}年" in section.locator("h2").inner_text()
    section.scroll_into_view_if_needed()
    staff.screenshot(path=str(artifacts / "annual-report-dashboard-1366x768.png"))
    with staff.expect_download() as got:
        section.locator("a", has_text="导出 Excel").click()
    path = tmp_path / "annual.xlsx"
    got.value.save_as(path)
    book = openpyxl.load_workbook(path)
    table = {r[0]: r[1:] for r in book.worksheets[0].iter_rows(min_row=4, values_only=True) if r[0]}
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")
    try:
        expected = annual_report.compute(conn, "340499100000", year)
    finally:
        conn.close()
    assert table["一、本年新收政府信息公开申请数量"][-1] == expected["new"]["总计"] >= 1
    assert table["（一）予以公开"][-1] == dict(expected["results"])["（一）予以公开"]["总计"] >= 1
    assert table["（七）总计"][-1] == expected["total"]["总计"]
    appeals = list(book.worksheets[1].iter_rows(min_row=5, values_only=True))[0]
    assert appeals[0] >= 1 and appeals[4] == appeals[0] + appeals[1] + appeals[2] + appeals[3]
    staff.goto(base + f"/admin/applications/annual-report?code=340499100000&year={year}")
    staff.screenshot(path=str(artifacts / "annual-report-1366x768.png"), full_page=True)
    staff.goto(base + "/admin/applications/new")
    assert staff.locator("select[name=organ] option", has_text="淮川县财政局").count() == 1
    staff.screenshot(path=str(artifacts / "application-new-1366x768.png"), full_page=True)
    staff_ctx.close()


@pytest.mark.parametrize("size, viewport, elderly", [
    ("1080x1920", PORTRAIT, False), ("1080x1920-elderly", PORTRAIT, True),
    ("1920x1080", LANDSCAPE, False), ("1920x1080-elderly", LANDSCAPE, True), ("390x844", PHONE, False)])
def test_apply_with_suggestions_and_organs_fits(live_server, browser, artifacts, size, viewport, elderly):
    """The changed /apply: suggestions and the 受理机关 choice fit every kiosk size and the phone."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True, is_mobile=viewport is PHONE)
    page = context.new_page()
    set_elderly(page, live_server.url, elderly)
    page.goto(live_server.url + "/apply")
    page.locator("#f-title").click()
    page.keyboard.insert_text(TITLE)
    page.wait_for_selector(".suggest-box")
    page.locator(".organ-departments > summary").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"/apply scrolls sideways at {size}"
    for sel in (".suggest-card", ".organ-choices label.pick"):
        for box in [b.bounding_box() for b in page.locator(sel).all()]:
            assert box["height"] >= 44 and box["x"] + box["width"] <= viewport["width"] + 1, sel
    page.locator(".suggest-box").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"apply-suggest-{size}.png"))
    page.locator("#f-organ").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"apply-organ-{size}.png"))
    context.close()
