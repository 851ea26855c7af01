"""A county administrator signs in, reads the assessment dashboard, drills down and exports."""
import io
import shutil

import pytest
from openpyxl import load_workbook

from content.demo_activity import add_to_instance
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(tmp_path, demo_template):
    """The demo county as `kiosk demo` makes it: with its sample resident activity."""
    data_dir = tmp_path / "live"
    shutil.copytree(demo_template, data_dir)
    add_to_instance(data_dir / "kiosk.sqlite3")
    server = LiveServer(data_dir).start()
    yield server
    server.stop()


def sign_in(page, url, username="county-admin"):
    page.goto(url + "/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def test_county_admin_dashboard_drill_down_and_export(demo_server, page, artifacts):
    live_server = demo_server
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    sign_in(page, live_server.url)
    page.get_by_role("link", name="公开评估").click()
    page.wait_for_url("**/admin/assessment/")
    assert page.locator("h1").inner_text() == "公开工作评估 · 淮川县"
    kpis = page.locator(".kpi strong")
    assert kpis.count() == 7
    assert all(t.strip() not in ("", "—") for t in kpis.all_inner_texts())   # the demo fills every figure
    charts = page.locator("svg.chart")
    assert charts.count() >= 10
    # Charts are drawn: bars have a width, and the page does not overflow sideways.
    box = charts.first.bounding_box()
    assert box["width"] > 300 and box["height"] > 60
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    page.screenshot(path=str(artifacts / "assessment-1920x1080.png"))
    page.screenshot(path=str(artifacts / "assessment-full-1920.png"), full_page=True)

    # Drill down: county → township → village.
    page.locator("#t-children").get_by_role("link", name="东湖镇").click()
    page.wait_for_selector("h1:has-text('东湖镇')")
    page.locator("#t-children").get_by_role("link", name="杏花村").click()
    page.wait_for_selector("h1:has-text('杏花村')")
    assert page.locator(".crumbs a", has_text="淮川县").count() == 1
    page.screenshot(path=str(artifacts / "assessment-village-1920x1080.png"))

    # Export the village's tables.
    with page.expect_download() as info:
        page.get_by_role("link", name="全部导出 Excel").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx") and "杏花村" in download.suggested_filename
    wb = load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    assert len(wb.sheetnames) >= 10
    assert wb.worksheets[0]["B2"].value is None and "杏花村" in wb.worksheets[0]["A2"].value

    # The print version, rendered for A4 paper.
    page.get_by_role("link", name="打印版（A4）").click()
    page.wait_for_selector("[data-print]")
    page.emulate_media(media="print")
    assert not page.locator(".print-bar").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20000
    (artifacts / "assessment-village-a4.pdf").write_bytes(pdf)
    assert not page.js_errors
    assert not [u for u in failed if "favicon" not in u], failed


def test_terminal_usage_section(demo_server, page, artifacts):
    """The per-terminal usage of the demo's sample terminals: chart, trend, table, at 1920×1080."""
    sign_in(page, demo_server.url)
    page.goto(demo_server.url + "/admin/assessment/#usage")
    section = page.locator("#usage")
    section.scroll_into_view_if_needed()
    rows = page.locator("#t-usage_terminals tbody tr")
    assert rows.count() == 10                                   # nine sample terminals and the total
    assert rows.first.locator("td").first.inner_text() == "县政务服务大厅政务公开专区1号机"
    assert "浏览记录目前不带终端编号" not in page.content()
    charts = section.locator("svg.chart")
    assert charts.count() >= 5
    trend = section.locator("figure", has_text="浏览最多的查询机每月浏览量").locator("svg")
    assert trend.locator("polyline").count() == 5              # one line per top-five terminal
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    page.evaluate("document.querySelector('#usage').scrollIntoView()")
    page.screenshot(path=str(artifacts / "assessment-terminals-1920x1080.png"))
    section.screenshot(path=str(artifacts / "assessment-terminals-section.png"))

    # A village editor sees its own village's terminal only.
    page.context.clear_cookies()
    sign_in(page, demo_server.url, "village-editor")
    page.goto(demo_server.url + "/admin/assessment/#usage")
    names = page.locator("#t-usage_terminals tbody tr td:first-child").all_inner_texts()
    assert names == ["杏花村村委会信息查阅点", "合计"]
    assert not page.js_errors
