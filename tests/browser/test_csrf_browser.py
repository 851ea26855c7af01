"""CSRF on demand in real Chromium: reading starts no session; submitting a form fetches the token."""
import sqlite3

import pytest

pytestmark = pytest.mark.browser


def test_reading_sets_no_cookie_and_forms_still_post(live_server, page):
    requests = []
    page.on("request", lambda r: requests.append((r.method, r.url)))
    for path in ("/", "/guides", "/guides/1", "/notices"):
        page.goto(live_server.url + path)
    assert page.context.cookies() == []              # nothing signed, nothing stored
    assert not any(u.endswith("/csrf-token") for _, u in requests)

    # A rating (htmx form on a cached page): the token is fetched, then the POST is accepted.
    page.locator("main a.card[href^='/notices/']").first.click()
    page.wait_for_selector("section.rate")
    page.locator("section.rate").get_by_role("button", name="满意", exact=True).click()
    page.wait_for_selector("section.rate-thanks")
    posts = [u for m, u in requests if m == "POST"]
    fetched = [u for m, u in requests if m == "GET" and u.endswith("/csrf-token")]
    assert posts and posts[0].endswith("/rate") and len(fetched) == 1
    assert [c["name"] for c in page.context.cookies()] == ["session"]
    conn = sqlite3.connect(live_server.data_dir / "kiosk.sqlite3")
    assert conn.execute("SELECT count(*) FROM feedback WHERE rating = '满意'").fetchone()[0] >= 1
    conn.close()

    # The plain (non-htmx) 适老化 form reuses the session: one more token fetch, then 303 back here.
    here = page.url
    with page.expect_navigation():
        page.locator(".navbtn-elderly").click()
    assert page.url == here and page.locator("body.elderly").count() == 1
    assert not page.js_errors
