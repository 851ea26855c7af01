"""Key-paged admin lists in Chromium at 1366×768: 下一页 and 上一页 with filters, the workbench
queues and their full lists (screenshots under tests/artifacts/)."""
from __future__ import annotations

from content import db
from tests.admin_pages_util import VILLAGE, add_busy_rows
from tests.browser.staff import login

ADMIN = {"width": 1366, "height": 768}


def _first_ids(page) -> list[str]:
    return page.locator("table.list tbody tr td:first-child").all_inner_texts()


def test_lists_page_forward_and_back_and_queues_link_their_pages(live_server, browser, artifacts):
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")      # with the search index's functions
    add_busy_rows(conn)
    conn.close()
    base = live_server.url

    admin = browser.new_context(viewport=ADMIN, locale="zh-CN").new_page()
    login(admin, base, "county-admin")
    admin.screenshot(path=str(artifacts / "admin-workbench-1366x768.png"), full_page=True)
    admin.goto(base + "/admin/notices/")
    admin.select_option("select[name=jurisdiction]", VILLAGE)
    admin.select_option("select[name=status]", "published")
    admin.click("form.filters button[type=submit]")
    first = _first_ids(admin)
    assert len(first) == 100 and "第 1 页" in admin.inner_text("nav.pager")
    assert admin.locator("a[rel=prev]").count() == 0
    admin.click("a[rel=next]")
    assert "第 2 页" in admin.inner_text("nav.pager")
    second = _first_ids(admin)
    assert second and not set(second) & set(first)
    assert f"jurisdiction={VILLAGE}" in admin.url and "status=published" in admin.url
    assert admin.input_value("select[name=status]") == "published"       # the filter stays chosen
    admin.screenshot(path=str(artifacts / "admin-notices-page2-1366x768.png"), full_page=False)
    admin.locator("nav.pager").scroll_into_view_if_needed()
    admin.screenshot(path=str(artifacts / "admin-notices-pager-1366x768.png"), full_page=False)
    admin.click("a[rel=prev]")
    assert "第 1 页" in admin.inner_text("nav.pager") and _first_ids(admin) == first

    admin.goto(base + "/admin/audit?action=submit")
    admin.click("a[rel=next]")
    assert "第 2 页" in admin.inner_text("nav.pager") and "action=submit" in admin.url
    admin.screenshot(path=str(artifacts / "admin-audit-page2-1366x768.png"), full_page=False)
    admin.goto(base + "/admin/proof")
    admin.screenshot(path=str(artifacts / "admin-proof-list-1366x768.png"), full_page=False)

    supervisor = browser.new_context(viewport=ADMIN, locale="zh-CN").new_page()
    login(supervisor, base, "village-supervisor")
    supervisor.click("text=查看全部")
    assert supervisor.url.endswith("/admin/review")
    assert supervisor.locator("table.list tbody tr").count() > 20
    supervisor.screenshot(path=str(artifacts / "admin-review-queue-1366x768.png"), full_page=False)

    editor = browser.new_context(viewport=ADMIN, locale="zh-CN").new_page()
    login(editor, base, "village-editor")
    editor.screenshot(path=str(artifacts / "admin-workbench-editor-1366x768.png"), full_page=False)
    editor.click("a[href='/admin/drafts']")
    assert editor.locator("table.list tbody tr").count() == 100
    editor.click("a[rel=next]")
    assert "第 2 页" in editor.inner_text("nav.pager")
    editor.screenshot(path=str(artifacts / "admin-drafts-page2-1366x768.png"), full_page=False)
