"""Issue 20's "done when" for objections: a resident objects to a 公示 at a village kiosk by touch
(handwriting and pinyin on the on-screen keyboard), the terminal's real sync carries it to the
hub, staff answer it there within the clock in the admin (the 村务监督委员会 approves the public
answer), and after the next sync the answer is under the notice on the kiosk and behind the
receipt number. Real `kiosk serve` for hub and terminal, Debian's Chromium."""
from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import date

import pytest

from content import db
from kiosk import config, pinyin_table
from kiosk.cli import create_instance
from sync import bundle, publish, terminal

from .conftest import LANDSCAPE, PORTRAIT, LiveServer, demo_hub_dir
from .staff import csp_watch, login
from .test_citizen_browser import keyboard, tap_keys
from .test_ime import WANG, candidates, pick, write
from .test_screens import MODES, PHONE

pytestmark = pytest.mark.browser
VILLAGE = "340499100201"          # 杏花村
TOKEN = "questions-e2e-token"
ADMIN = {"width": 1366, "height": 768}


@pytest.fixture
def hub_and_terminal(tmp_path, demo_template):
    hub_dir, key = demo_hub_dir(tmp_path, demo_template, TOKEN, VILLAGE)
    hub = LiveServer(hub_dir).start()
    term_dir = tmp_path / "terminal"
    create_instance(term_dir, "terminal", scope=VILLAGE, hub_url=hub.url, trusted_keys=[bundle.public_b64(key)])
    terminal.init_terminal(term_dir, TOKEN)
    # The pinyin table a terminal builds when first served, ready at once (as the demo's is).
    shutil.copy(demo_template / pinyin_table.FILE_NAME, term_dir / pinyin_table.FILE_NAME)
    assert terminal.sync_once(term_dir).ok
    term = LiveServer(term_dir).start()
    yield hub, term
    term.stop()
    hub.stop()


def _sync(data_dir):
    """One sync round now: the served terminal runs its own rounds too, so wait while one of
    them holds the lock (the lock is the point: two rounds never apply at once)."""
    deadline = time.monotonic() + 90
    while True:
        report = terminal.sync_once(data_dir)
        if report.ok or "另一个同步进程正在运行" not in report.errors or time.monotonic() > deadline:
            return report
        time.sleep(0.5)


def _village_notice(data_dir) -> tuple[int, str]:
    conn = sqlite3.connect(data_dir / "kiosk.sqlite3")
    try:
        return conn.execute("SELECT id, title FROM notice WHERE status = 'published' AND kind = '公示' "
                            "AND jurisdiction_code = ?1 AND period_start <= date('now') "
                            "AND period_end >= date('now') ORDER BY id", (VILLAGE,)).fetchone()
    finally:
        conn.close()


def test_objection_at_a_village_kiosk_is_answered_under_the_notice(hub_and_terminal, browser, artifacts):
    hub, term = hub_and_terminal
    nid, title = _village_notice(term.data_dir)

    # ---- the resident, by touch alone, at the village's portrait kiosk
    kiosk = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    page = kiosk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{term.url}/notices/{nid}")
    page.locator(".ask-object").tap()
    page.wait_for_url(f"**/object/{nid}")
    page.locator("#f-body").tap()
    kb = keyboard(page)
    assert kb.is_visible() and kb.get_attribute("data-ime-mode") == "hand"     # Chinese: the writing pad
    write(page, kiosk, "#fkb", WANG)
    assert candidates(page, "#fkb")[0] == "王"
    pick(page, "#fkb", "王")
    kb.locator("[data-ime-mode='pinyin']").tap()
    tap_keys(page, "MINGDAN")
    page.wait_for_selector("#fkb .ime-cand[data-ime-text='名单']")
    pick(page, "#fkb", "名单")
    tap_keys(page, "YOUWU")
    page.wait_for_selector("#fkb .ime-cand[data-ime-text='有误']")
    pick(page, "#fkb", "有误")
    assert page.locator("#f-body").input_value() == "王名单有误"
    page.locator("#f-phone").tap()
    assert not kb.locator(".ime").is_visible()                                  # digits: the keypad
    tap_keys(page, "13955507788")
    tap_keys(page, ["done"])
    page.screenshot(path=str(artifacts / "questions-e2e-form-1080x1920.png"))
    page.get_by_role("button", name="提交异议").tap()
    page.wait_for_url("**/ask/receipt")
    receipt = page.locator("[data-receipt]").inner_text().strip()
    assert receipt.startswith("WT-") and "139****7788" in page.content()
    assert "13955507788" not in page.content()
    page.screenshot(path=str(artifacts / "questions-e2e-receipt-1080x1920.png"))

    # ---- upstream through the terminal's outbox, by the real sync
    assert _sync(term.data_dir).ok
    hconn = db.connect(hub.data_dir / config.DATABASE_NAME)
    try:
        row = hconn.execute("SELECT * FROM resident_question WHERE receipt_no = ?", (receipt,)).fetchone()
        assert row is not None and row["body"] == "王名单有误" and row["jurisdiction_code"] == VILLAGE
        due = row["due_on"]
    finally:
        hconn.close()

    # ---- staff at the hub: the village editor answers, the 村务监督委员会 approves
    staff = browser.new_context(viewport=ADMIN, locale="zh-CN")
    admin = staff.new_page()
    csp = csp_watch(admin)
    login(admin, hub.url, "village-editor")
    admin.goto(hub.url + "/admin/questions")
    assert receipt in admin.content() and "还剩" in admin.content()
    admin.screenshot(path=str(artifacts / "questions-admin-list-1366x768.png"), full_page=True)
    admin.get_by_role("link", name=receipt).click()
    assert "139****7788" in admin.content() and "13955507788" not in admin.content()
    admin.fill("textarea[name=question]", "公示名单有误")
    admin.fill("textarea[name=answer]", "经村务监督委员会核实，名单无误，维持公示。")
    admin.check("input[name=upheld][value='0']")
    admin.screenshot(path=str(artifacts / "questions-admin-answer-1366x768.png"), full_page=True)
    admin.get_by_role("button", name="提交答复").click()
    admin.wait_for_selector(".flash")
    assert "已答复" in admin.content()
    staff.close()
    supervisors = browser.new_context(viewport=ADMIN, locale="zh-CN")
    sup = supervisors.new_page()
    login(sup, hub.url, "village-supervisor")
    sup.goto(hub.url + "/admin/questions")
    sup.get_by_role("button", name="通过并公开").click()
    sup.wait_for_selector(".flash")
    supervisors.close()
    assert not csp

    # ---- the hub publishes, the terminal syncs: the answer is under the notice, within the clock
    conn = db.connect(hub.data_dir / config.DATABASE_NAME)
    try:
        publish.publish_all(hub.data_dir, conn)
        answered = conn.execute("SELECT answered_on FROM resident_question WHERE receipt_no = ?",
                                (receipt,)).fetchone()[0]
    finally:
        conn.close()
    assert answered <= due
    assert _sync(term.data_dir).ok
    page.goto(f"{term.url}/notices/{nid}")
    answer = page.locator(".qa")
    assert "经村务监督委员会核实，名单无误，维持公示。" in answer.inner_text()
    assert "公示名单有误" in answer.inner_text() and "王名单有误" not in page.content()
    page.locator(".qa").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "questions-e2e-answer-1080x1920.png"))

    # ---- and behind the receipt number, typed on the keys of the status page applicants use too
    page.goto(f"{term.url}/apply/status")
    page.locator("#f-receipt").tap()
    tap_keys(page, receipt)                 # W, T, - and the rest, key by key
    page.locator("#f-tail").tap()
    tap_keys(page, "7788")
    tap_keys(page, ["done"])
    page.get_by_role("button", name="查询").tap()
    page.wait_for_selector(".lookup-result")
    assert "/ask/status" in page.url
    assert "已答复" in page.locator(".lookup-result").inner_text()
    page.screenshot(path=str(artifacts / "questions-e2e-status-1080x1920.png"))
    assert not errors
    kiosk.close()

    # ---- the answered screens at every size the resident meets
    for name, viewport, elderly, _least in MODES:
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True, is_mobile=viewport is PHONE)
        p = ctx.new_page()
        p.goto(term.url + "/")
        if elderly:
            with p.expect_navigation():
                p.locator(".navbtn-elderly").click()
        p.goto(f"{term.url}/notices/{nid}")
        p.locator(".ask-box").scroll_into_view_if_needed()
        p.screenshot(path=str(artifacts / f"questions-answer-{name}.png"))
        p.goto(f"{term.url}/ask/status?receipt={receipt}")
        p.fill("#f-tail", "7788")
        p.get_by_role("button", name="查询").click()
        p.wait_for_selector(".lookup-result")
        p.screenshot(path=str(artifacts / f"questions-status-{name}.png"), full_page=True)
        ctx.close()
    assert date.fromisoformat(answered) <= date.fromisoformat(due)
