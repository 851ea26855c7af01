"""A new county's administrator in Chromium at 1366×768: first sign-in with the one-time
password, county setup, domains, bulk accounts and the printable password sheet."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.staff import csp_watch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from county_util import DIVISIONS_2024, make_county  # noqa: E402

pytestmark = pytest.mark.browser
ADMIN_VIEW = {"width": 1366, "height": 768}
NEW_PASSWORD = "Fengtai-county-hub-2027!"
STAFF_CSV = ("姓名,手机,角色,区划代码\n"
             "张三,13912345678,村务编辑,340421100201\n"
             "李四,13987654321,村务监督委员会,340421100201\n"
             "王五,13700001111,村务编辑,340421100202\n"
             "赵六,,村务监督委员会,340421100202\n"
             "孙七,13700002222,村务编辑,340421200201\n"
             "周八,13700003333,村务监督委员会,340421200201\n")


@pytest.fixture
def county_server(tmp_path):
    from click.testing import CliRunner
    from kiosk.cli import main
    path = tmp_path / "hub"
    make_county(path, public_url="https://gk.example.gov.cn")
    r = CliRunner().invoke(main, ["user", "add", "xian-admin2", "--role", "county-admin",
                                  "--jurisdiction", "340421000000", "--data-dir", str(path)])
    one_time = r.output.strip().splitlines()[-1]
    server = LiveServer(path).start()
    yield server, one_time
    server.stop()


def test_county_admin_pages(browser, county_server, artifacts, tmp_path):
    server, one_time = county_server
    base = server.url
    context = browser.new_context(viewport=ADMIN_VIEW, locale="zh-CN")
    page = context.new_page()
    problems = csp_watch(page)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(base + "/admin/login")
    page.fill("input[name=username]", "xian-admin2")
    page.fill("input[name=password]", one_time)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/password")
    page.screenshot(path=str(artifacts / "county-admin-first-password-1366.png"))
    page.goto(base + "/admin/users")                     # still held on the password page
    assert page.url == base + "/admin/password"
    page.fill("input[name=current]", one_time)
    page.fill("input[name=new]", NEW_PASSWORD)
    page.fill("input[name=again]", NEW_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "/admin/")
    assert "密码已设置" in page.inner_text("main")

    page.click("nav >> text=区划与领域")
    page.wait_for_url(base + "/admin/county")
    assert "https://gk.example.gov.cn" in page.input_value("input[name=public_url]")
    page.screenshot(path=str(artifacts / "county-setup-1366.png"), full_page=True)
    page.click("text=公开领域和部门")
    page.wait_for_url(base + "/admin/domains")
    assert page.locator("table.list tbody tr").count() == 26
    page.screenshot(path=str(artifacts / "county-domains-1366.png"))

    bad = tmp_path / "有错的名单.csv"
    bad.write_bytes((STAFF_CSV + "吴九,1370000,村长,340421100201\n").encode("gbk"))
    page.goto(base + "/admin/users/import")
    page.set_input_files("input[type=file]", str(bad))
    page.click("main button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert "第8行" in page.inner_text("[role=alert]")
    page.screenshot(path=str(artifacts / "county-users-import-refused-1366.png"))
    page.goto(base + "/admin/users/new")
    page.screenshot(path=str(artifacts / "county-user-new-1366.png"))

    staff = tmp_path / "村干部名单.csv"
    staff.write_bytes(STAFF_CSV.encode("gbk"))
    page.goto(base + "/admin/users/import")
    page.set_input_files("input[type=file]", str(staff))
    page.click("main button[type=submit]")
    page.wait_for_selector(".sheet-page")
    assert page.locator(".sheet-page").count() == 2
    assert page.locator(".sheet-page tbody tr").count() == 6
    page.screenshot(path=str(artifacts / "county-password-sheet-1366.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator(".sheet-bar").is_visible()
    page.emulate_media(media="screen")

    # A newer year's division file without 老庄村 (撤并): listed to merge or retire.
    newer = tmp_path / "2025区划.csv"
    newer.write_bytes(DIVISIONS_2024.replace("340421100203,220,老庄村委会\n", "")
                      .replace("新集村委会", "新集社区居民委员会").encode("gbk"))
    page.goto(base + "/admin/county")
    page.set_input_files("#divisions input[type=file]", str(newer))
    page.click("#divisions button[type=submit]")
    page.wait_for_selector("#pending")
    assert "老庄村委会" in page.inner_text("#pending") and "改名 1 个" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "county-divisions-pending-1366.png"), full_page=True)

    page.goto(base + "/admin/users")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 8
    text = page.inner_text("table.list")
    assert "139****5678" in text and "13912345678" not in text
    page.screenshot(path=str(artifacts / "county-users-1366.png"), full_page=True)
    page.click("table.list tr:has-text(\"zhangsan\") a:text-is(\"管理\")")
    page.wait_for_url(re.compile(r".*/admin/users/\d+$"))
    page.screenshot(path=str(artifacts / "county-user-edit-1366.png"), full_page=True)
    page.click("text=重置密码（生成一次性密码）")
    page.wait_for_selector("[data-password]")
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", page.inner_text("[data-password]"))
    page.screenshot(path=str(artifacts / "county-user-reset-1366.png"))
    assert not problems and not errors, (problems, errors)
    context.close()
