"""County set-up screens in Chromium at 1366×768: the go-live checklist, the holiday calendar,
village-list templates and their suggestions; a resident's receipt with a provisional due date."""
from __future__ import annotations

import re
import shutil

import pytest

from kiosk import config
from tests.browser.conftest import LiveServer, PORTRAIT
from tests.browser.staff import csp_watch, login
from tests.browser.test_touch import set_elderly

pytestmark = pytest.mark.browser

ADMIN = {"width": 1366, "height": 768}
SCHEDULE_2027 = """2027-01-01, 休, 元旦
2027-02-05..2027-02-11, 休, 春节
2027-02-14, 班, 春节
2027-02-20, 班, 春节"""


def server_on(tmp_path, demo_template, today: str, **settings) -> LiveServer:
    """A demo instance whose calendar day is pinned (kiosk.toml), served by `kiosk serve`."""
    data_dir = tmp_path / "live"
    shutil.copytree(demo_template, data_dir)
    current = {k.lower(): v for k, v in config.read_instance_config(data_dir).items()}
    config.write_instance_config(data_dir, {**current, "today": today, **settings})
    return LiveServer(data_dir).start()


@pytest.fixture
def december(tmp_path, demo_template):
    server = server_on(tmp_path, demo_template, "2026-12-03", public_url="http://127.0.0.1:8080")
    yield server
    server.stop()


def shot(page, artifacts, name):
    page.screenshot(path=str(artifacts / f"{name}-1366x768.png"), full_page=True)


def test_county_admin_works_through_the_checklist(december, browser, artifacts):
    base = december.url
    context = browser.new_context(viewport=ADMIN, locale="zh-CN")
    page = context.new_page()
    problems = csp_watch(page)
    login(page, base, "county-admin")
    summary = page.locator(".golive-summary")
    assert re.search(r"上线准备：\d+ / 10 项已完成", summary.inner_text())
    assert "明年（2027年）节假日安排已录入" in summary.inner_text()
    shot(page, artifacts, "golive-dashboard")

    page.get_by_role("link", name="查看上线准备清单").click()
    page.wait_for_url(base + "/admin/golive/")
    line = page.locator("#check-public_url")
    assert "未完成" in line.inner_text() and "本机或内网地址" in line.inner_text()
    assert page.locator("#check-staff a").get_attribute("href") == "/admin/users"
    assert page.locator("#check-divisions a").get_attribute("href") == "/admin/divisions"
    shot(page, artifacts, "golive-checklist")

    # Fix one line from its link: next year's holidays.
    page.locator("#check-holidays a").click()
    page.wait_for_url(base + "/admin/holidays/")
    assert "缺少" in page.locator("table.holiday-years").inner_text()
    page.fill("#h-source", "国办发明电〔2026〕7号")
    page.fill("#h-text", "2027-02-10, 班, 春节")                        # a Wednesday: refused
    page.get_by_role("button", name="保存节假日安排").click()
    assert "第 1 行：2027-02-10 是星期三" in page.locator("[role=alert]").inner_text()
    shot(page, artifacts, "holidays-refused")
    page.fill("#h-text", SCHEDULE_2027)
    page.get_by_role("button", name="保存节假日安排").click()
    page.wait_for_url(base + "/admin/holidays/2027")
    assert "已录入 2027年：放假 8 天，调休上班 2 天" in page.locator(".flash").inner_text()
    assert "星期日" in page.locator("table.list").inner_text()
    shot(page, artifacts, "holidays-2027")

    page.goto(base + "/admin/golive/")
    assert "已完成" in page.locator("#check-holidays .golive-state").inner_text()
    assert not problems, problems
    context.close()


def test_template_sent_changed_and_decided_in_a_village(december, browser, artifacts):
    base = december.url
    context = browser.new_context(viewport=ADMIN, locale="zh-CN")
    page = context.new_page()
    problems = csp_watch(page)
    login(page, base, "county-admin")
    page.goto(base + "/admin/templates/")
    page.fill("#t-name", "村务公开事项标准清单（2027年版）")
    page.get_by_role("button", name="新建").click()
    page.wait_for_url(re.compile(r".*/admin/templates/\d+$"))
    page.fill("#f-category", "村务管理")
    page.fill("#f-title", "宅基地审批情况")
    page.fill("#f-content", "审批对象、面积、位置")
    page.fill("#f-limit", "审批后7日内")
    page.fill("#f-frequency", "随时")
    page.fill("#f-responsible", "村民委员会")
    page.fill("#f-channels", "村务公开栏、查询机")
    page.get_by_role("button", name="添加到模板").click()
    page.locator("input[name=all]").check()
    page.get_by_role("button", name="下发", exact=True).click()
    assert "已下发到 6 个村（社区）" in page.locator(".flash").inner_text()
    assert "杏花村" in page.locator("main").inner_text()
    shot(page, artifacts, "template-detail")
    page.get_by_role("link", name="修改").first.click()
    page.fill("#f-limit", "审批后5个工作日内")
    page.get_by_role("button", name="保存", exact=True).click()
    assert "不会被直接改动" in page.locator(".flash").inner_text()
    page.get_by_role("button", name="退出", exact=True).click()

    login(page, base, "village-editor")
    page.get_by_role("link", name="查看并处理").click()
    page.wait_for_url(base + "/admin/templates/suggestions")
    card = page.locator("section.suggestion").first
    assert "审批后7日内" in card.inner_text() and "审批后5个工作日内" in card.inner_text()
    shot(page, artifacts, "template-suggestions")
    card.get_by_role("button", name="采纳：生成修改草稿").click()
    assert "已按模板修改生成草稿" in page.locator(".flash").inner_text()
    assert page.locator("section.suggestion").count() == 0
    page.get_by_role("button", name="退出", exact=True).click()

    login(page, base, "county-admin")
    page.goto(base + "/admin/assessment/#templates")
    assert "村务公开清单模板采用情况" in page.locator("#templates").inner_text()
    page.locator("#templates").screenshot(path=str(artifacts / "assessment-templates-1366x768.png"))
    assert not problems, problems
    context.close()


def test_receipt_says_the_due_date_is_provisional(tmp_path, demo_template, browser, artifacts):
    server = server_on(tmp_path, demo_template, "2027-01-29")
    try:
        context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
        page = context.new_page()
        page.goto(server.url + "/apply")
        token = page.request.get(server.url + "/csrf-token").json()["token"]
        r = page.request.post(server.url + "/apply", form={
            "csrf_token": token, "applicant_type": "自然人", "name": "王小明", "id_type": "居民身份证",
            "id_number": "11010519491231002X", "phone": "13812345678", "title": "杏花村低保名单",
            "provision_form": "纸质", "delivery": "自行领取"}, max_redirects=0)
        assert r.status == 303, r.text()[:500]
        page.goto(server.url + "/apply/receipt")
        due = page.locator(".slip-fields dt:text-is('法定答复期限') + dd")
        assert "2027-02-26" in due.inner_text() and "暂按周一至周五计算" in due.inner_text()
        page.screenshot(path=str(artifacts / "receipt-provisional-1080x1920.png"), full_page=True)
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.screenshot(path=str(artifacts / "receipt-provisional-1920x1080.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(artifacts / "receipt-provisional-390x844.png"), full_page=True)
        for viewport, name in ((PORTRAIT, "1080x1920"), ({"width": 1920, "height": 1080}, "1920x1080")):
            page.set_viewport_size(viewport)
            set_elderly(page, server.url, True)
            page.goto(server.url + "/apply/receipt")
            page.screenshot(path=str(artifacts / f"receipt-provisional-elderly-{name}.png"), full_page=True)
            set_elderly(page, server.url, False)
        context.close()
    finally:
        server.stop()
