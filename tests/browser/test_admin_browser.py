"""Staff in a real browser: a village notice goes from draft to the kiosk only through review;
the resident screens, QR images and htmx keep working under the Content Security Policy."""
import re

import pytest

from tests.browser.conftest import LANDSCAPE, PORTRAIT
from tests.browser.staff import csp_watch, login

pytestmark = pytest.mark.browser


def test_editor_drafts_supervisor_approves_kiosk_shows(live_server, browser, artifacts):
    base = live_server.url
    editor_ctx = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    editor = editor_ctx.new_page()
    problems = csp_watch(editor)
    login(editor, base, "village-editor")
    editor.screenshot(path=str(artifacts / "admin-dashboard-1920x1080.png"), full_page=True)
    editor.goto(base + "/admin/notices/new")
    editor.select_option("select[name=kind]", "公示")
    editor.fill("input[name=title]", "杏花村2025年3月村级财务收支公示（浏览器测试）")
    editor.fill("textarea[name=body]", "经村务监督委员会审核，现将3月收支公示如下。\n如有疑问请到村委会咨询。")
    editor.fill("input[name='t-h-0']", "项目")
    editor.fill("input[name='t-h-1']", "金额（元）")
    editor.fill("input[name='t-0-0']", "道路维修")
    editor.fill("input[name='t-0-1']", "4,500.00")
    editor.fill("input[name=period_start]", "2025-01-01")
    editor.screenshot(path=str(artifacts / "admin-notice-form-1920x1080.png"), full_page=True)
    editor.click("button[value=submit]")
    editor.wait_for_url(re.compile(r"/admin/notices/\d+$"))
    nid = int(editor.url.rsplit("/", 1)[1])
    assert "已提交审核" in editor.inner_text("main")
    editor.screenshot(path=str(artifacts / "admin-notice-submitted-1920x1080.png"), full_page=True)

    kiosk = browser.new_context(viewport=LANDSCAPE, locale="zh-CN").new_page()
    assert kiosk.goto(f"{base}/notices/{nid}").status == 404

    sup_ctx = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    supervisor = sup_ctx.new_page()
    problems += csp_watch(supervisor)
    login(supervisor, base, "village-supervisor")
    supervisor.click("text=杏花村2025年3月村级财务收支公示（浏览器测试）")
    supervisor.wait_for_url(f"{base}/admin/notices/{nid}")
    supervisor.screenshot(path=str(artifacts / "admin-review-1080x1920.png"), full_page=True)
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PORTRAIT["width"]
    supervisor.click("button:has-text('审核通过并发布')")
    supervisor.wait_for_url(base + "/admin/review")
    assert "审核通过" in supervisor.inner_text("main")

    assert kiosk.goto(f"{base}/notices/{nid}").status == 200
    assert "杏花村2025年3月村级财务收支公示" in kiosk.inner_text("h1")
    assert "道路维修" in kiosk.inner_text("main")
    kiosk.screenshot(path=str(artifacts / "kiosk-approved-notice-1920x1080.png"), full_page=True)
    assert not problems, problems
    for ctx in (editor_ctx, sup_ctx, kiosk.context):
        ctx.close()


def test_resident_screens_qr_and_htmx_under_csp(live_server, page, artifacts):
    problems = csp_watch(page)
    page.goto(live_server.url + "/guides")
    page.locator("main a[href^='/guides/']").first.click()
    page.wait_for_url(re.compile(r"/guides/\d+"))
    # Boosted navigation swaps #main only: htmx is running under the policy.
    assert page.evaluate("typeof htmx") == "object"
    # A QR image from /qr.svg renders under img-src 'self' (its own response carries the CSP too).
    width = page.evaluate("""() => new Promise(done => {
        const img = new Image();
        img.onload = () => done(img.naturalWidth);
        img.onerror = () => done(-1);
        img.src = '/qr.svg?url=' + encodeURIComponent('https://zwfw.huaichuan.example/guide/dibao-apply');
        document.querySelector('main').appendChild(img);
    })""")
    assert width > 0
    page.goto(live_server.url + "/notices")
    page.locator("main a[href^='/notices/']").first.click()
    page.wait_for_url(re.compile(r"/notices/\d+"))
    headers = page.request.get(live_server.url + "/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert not problems, problems
    assert not page.js_errors


def test_review_page_shows_the_change_first_at_1366(live_server, browser, artifacts):
    """The supervisor's view of a corrected list on a 1366×768 office screen: the change
    against the published version (changed cells marked, an added and a removed row) and the
    figure check come before the decision, and no changed column is cut off."""
    from content import db, editing
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")
    editor = conn.execute("SELECT * FROM user WHERE username = 'village-editor'").fetchone()
    nid = conn.execute("SELECT id FROM notice WHERE jurisdiction_code = '340499100201' AND status = 'published' "
                       "AND table_rows LIKE '%王*明%'").fetchone()[0]
    w = editing.working(conn, editing.entity("notice"), nid)
    data = dict(w["data"])
    rows = [list(r) for r in data["table_rows"]]
    wang = next(r for r in rows if r[1] == "王*明")
    wang[4], wang[6] = "10.00", "1,050.00"                  # the township's figures
    removed = rows.pop(-1)
    rows.append(["11", "周*成", "3404**********2210", "四组", "2.00", "105.00", "210.00"])
    data.update(table_rows=rows, fields=dict(data["fields"], 补贴面积合计="74.00亩", 发放总额="7,770元"))
    editing.save_draft(conn, editor, "notice", nid, data)
    editing.submit(conn, editor, "notice", nid, figures_note="按乡镇复核结果更正")
    conn.close()

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    problems = csp_watch(page)
    login(page, live_server.url, "village-supervisor")
    page.goto(f"{live_server.url}/admin/notices/{nid}")
    page.screenshot(path=str(artifacts / "admin-review-diff-1366x768.png"))
    page.screenshot(path=str(artifacts / "admin-review-diff-1366x768-full.png"), full_page=True)
    changes = page.locator("#changes").bounding_box()
    decide = page.locator("#decide").bounding_box()
    figures = page.locator("#figures")
    assert changes["y"] < decide["y"]
    assert figures.count() == 0 or figures.bounding_box()["y"] < decide["y"]
    # The change is on the first screen, not below the buttons.
    assert changes["y"] < 768
    changed = page.locator(".diff-table td.changed")
    assert changed.count() == 2
    for i in range(changed.count()):
        box = changed.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
    assert page.locator(".diff-table tr.row-added").count() == 1
    assert page.locator(".diff-table tr.row-removed").count() == 1
    assert removed[1] in page.locator(".diff-table tr.row-removed").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert not problems, problems
    ctx.close()


def test_demo_draft_shows_its_figure_failure_and_needs_reasons(live_server, browser, artifacts):
    """The demo's one deliberate failure: the editor sees it before submitting and must explain
    it; the supervisor sees it too and approving needs a reason."""
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    problems = csp_watch(page)
    login(page, base, "village-editor")
    page.goto(base + "/admin/notices/?status=draft")
    page.click("text=村级财务收支公示（草稿）")
    page.wait_for_url(re.compile(r"/admin/notices/\d+$"))
    nid = int(page.url.rsplit("/", 1)[1])
    assert "数字核对不一致（2 处）" in page.inner_text("#figures")
    assert "上面各行相加是 4,080" in page.inner_text("#figures")
    page.screenshot(path=str(artifacts / "admin-figures-editor-1366x768.png"), full_page=True)
    page.fill("input[name=figures_note]", "第3项防汛物资含100元运费，已补凭证")
    page.click("button:has-text('提交审核')")
    page.wait_for_url(f"{base}/admin/notices/{nid}")
    assert "已提交审核" in page.inner_text("main")

    sup = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    problems += csp_watch(sup)
    login(sup, base, "village-supervisor")
    sup.goto(f"{base}/admin/notices/{nid}")
    assert "第3项防汛物资含100元运费" in sup.inner_text("#decide")
    sup.screenshot(path=str(artifacts / "admin-figures-review-1366x768.png"), full_page=True)
    sup.fill("textarea[name=override_reason]", "已核对凭证，合计按凭证更正后另行公示")
    sup.click("button:has-text('写明理由后审核通过并发布')")
    sup.wait_for_url(base + "/admin/review")
    assert "审核通过" in sup.inner_text("main")
    assert not problems, problems
    ctx.close()
    sup.context.close()


def test_consultation_result_is_submitted_for_review(live_server, browser, artifacts):
    """A closed consultation's page: opinions, then the 采纳情况 form, which sends it to review."""
    from content import db
    conn = db.connect(live_server.data_dir / "kiosk.sqlite3")
    cid = conn.execute("SELECT id FROM consultation WHERE closes_on < date('now')").fetchone()[0]
    conn.close()
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    problems = csp_watch(page)
    login(page, live_server.url, "county-admin")
    page.goto(f"{live_server.url}/admin/consultations/{cid}")
    page.fill("textarea[name=result_summary]", "共收到意见12条，采纳8条；未采纳的4条已逐条说明理由。")
    page.click("#result button:has-text('提交审核')")
    page.wait_for_url(f"{live_server.url}/admin/consultations/{cid}")
    main = page.inner_text("main")
    assert "已提交审核" in main and "与当前公开版本的对比" in main and "共收到意见12条" in main
    assert page.locator("#result textarea").count() == 0          # under review: no second form
    page.screenshot(path=str(artifacts / "admin-consultation-result-1366x768.png"), full_page=True)
    kiosk = ctx.new_page()
    kiosk.goto(f"{live_server.url}/consultations/{cid}")
    assert "共收到意见12条" not in kiosk.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert not problems, problems
    ctx.close()
