"""The resident page cache: hits are identical, any commit or a new day drops them, sessions bypass it."""
from __future__ import annotations

import re
import threading
import time

import pytest

from content import db
from kiosk import create_app, pagecache


@pytest.fixture
def cached_app(data_dir):
    # A long time slot: on a loaded machine two requests could otherwise straddle
    # the 60 s boundary and see a (correct) refresh instead of a hit.
    return create_app({"DATA_DIR": str(data_dir), "TESTING": True, "PAGE_CACHE_IN_TESTS": True,
                       "PAGE_CACHE_SECONDS": 3600})


def test_second_request_is_a_hit_with_the_same_page(cached_app):
    client = cached_app.test_client()
    first = client.get("/notices")
    second = client.get("/notices")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and first.mimetype == second.mimetype
    assert "HX-Request" in second.headers.get("Vary", "")
    s = pagecache.stats(cached_app)
    assert (s["hits"], s["misses"], s["pages"]) == (1, 1, 1)


def test_a_commit_from_another_connection_drops_cached_pages(cached_app, data_dir):
    client = cached_app.test_client()
    conn = db.connect(data_dir / "kiosk.sqlite3")
    notice_id, title = conn.execute(
        "SELECT id, title FROM notice WHERE status = 'published' ORDER BY id LIMIT 1").fetchone()
    before = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert title in before
    assert client.get(f"/notices/{notice_id}").get_data(as_text=True) == before  # cached
    conn.execute("UPDATE notice SET title = ? WHERE id = ?", ("已更新的公示标题", notice_id))
    conn.close()
    after = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert "已更新的公示标题" in after and title not in after


def test_htmx_fragment_and_full_page_are_kept_apart(cached_app):
    client = cached_app.test_client()
    full = client.get("/guides").get_data(as_text=True)
    fragment = client.get("/guides", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and "<html" not in fragment
    assert client.get("/guides", headers={"HX-Request": "true"}).get_data(as_text=True) == fragment
    assert client.get("/guides").get_data(as_text=True) == full
    assert pagecache.stats(cached_app)["hits"] == 2


def test_a_new_day_drops_cached_pages(cached_app, data_dir):
    client = cached_app.test_client()
    client.get("/")
    cache = cached_app.extensions["kiosk_page_cache"]
    assert cache.pages
    cached_app.config["TODAY"] = "2031-01-01"
    client.get("/")
    assert cache.stamp[0] == "2031-01-01" and len(cache.pages) == 1
    assert pagecache.stats(cached_app)["misses"] == 2
    assert pagecache.stats(cached_app)["misses"] == 2


def test_pages_expire_after_max_age(data_dir, monkeypatch):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "PAGE_CACHE_IN_TESTS": True,
                      "PAGE_CACHE_SECONDS": 30})
    clock = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock[0])
    client = app.test_client()
    client.get("/")
    client.get("/")
    clock[0] += 31
    client.get("/")
    s = pagecache.stats(app)
    assert (s["hits"], s["misses"]) == (1, 2)


def test_staff_sessions_bypass_the_cache(cached_app):
    client = cached_app.test_client()
    client.get("/domains")
    with client.session_transaction() as sess:
        sess["user_id"] = 1
    client.get("/domains")
    assert pagecache.stats(cached_app)["hits"] == 0


def test_resident_pages_start_no_session_so_hits_are_byte_identical(cached_app):
    """No CSRF token in resident pages: no cookie is set, and two visitors get the same bytes."""
    first, second = cached_app.test_client(), cached_app.test_client()
    conn = db.connect(cached_app.config["DATABASE"])
    item = conn.execute("SELECT id FROM catalogue_item WHERE status = 'published' LIMIT 1").fetchone()[0]
    conn.close()
    for url in ("/", "/matters", f"/items/{item}"):     # the item page has the rating form
        r1, r2 = first.get(url), second.get(url)
        assert r1.status_code == r2.status_code == 200
        assert "Set-Cookie" not in r1.headers and "Set-Cookie" not in r2.headers
        assert r1.data == r2.data
        assert b"csrf-token" not in r1.data and not re.search(rb'name="csrf_token" value="[^"]', r1.data)
    assert pagecache.stats(cached_app)["hits"] == 3


def test_a_visitor_with_a_csrf_session_is_still_served_from_the_cache(cached_app):
    client = cached_app.test_client()
    assert client.get("/csrf-token").get_json()["token"]
    client.get("/guides")
    assert client.get("/guides").status_code == 200
    assert pagecache.stats(cached_app)["hits"] == 1


def test_a_page_with_a_visitors_token_in_it_is_not_kept(cached_app, monkeypatch):
    """Should a cached screen ever render a CSRF token, the cache must not hand it to others."""
    from flask import render_template_string

    @cached_app.route("/token-page")
    def token_page():
        return render_template_string('<form><input name="csrf_token" value="{{ csrf_token() }}"></form>')

    monkeypatch.setattr(pagecache, "CACHED_ENDPOINTS", pagecache.CACHED_ENDPOINTS | {"token_page"})
    a, b = cached_app.test_client(), cached_app.test_client()
    page_a, page_b = a.get("/token-page").data, b.get("/token-page").data
    assert page_a != page_b
    assert pagecache.stats(cached_app)["pages"] == 0


def test_errors_and_other_endpoints_are_not_cached(cached_app):
    client = cached_app.test_client()
    assert client.get("/notices/999999").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert pagecache.stats(cached_app)["pages"] == 0


def test_the_cache_stays_within_its_byte_budget(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "PAGE_CACHE_IN_TESTS": True,
                      "PAGE_CACHE_BYTES": 200_000})
    client = app.test_client()
    conn = db.connect(data_dir / "kiosk.sqlite3")
    ids = [r[0] for r in conn.execute("SELECT id FROM notice WHERE status = 'published'")]
    conn.close()
    for notice_id in ids:
        client.get(f"/notices/{notice_id}")
    s = pagecache.stats(app)
    assert 0 < s["bytes"] <= 200_000 and s["pages"] < len(ids)


def test_cache_can_be_turned_off(data_dir):
    app = create_app({"DATA_DIR": str(data_dir), "PAGE_CACHE_BYTES": 0})
    assert pagecache.stats(app) == {"enabled": False}


def _count_renders(monkeypatch, delay: float = 0.3):
    """Make the guide list slow to build and count how many builds run at once."""
    from kiosk import views
    state = {"now": 0, "most": 0, "calls": 0}
    lock = threading.Lock()
    real = views.guides.guide_cards

    def slow(*args, **kwargs):
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(delay)
            return real(*args, **kwargs)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(views.guides, "guide_cards", slow)
    return state


def _get_all(app, urls):
    results = {}

    def get(i, url):
        results[i] = app.test_client().get(url)

    threads = [threading.Thread(target=get, args=(i, u)) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [results[i] for i in range(len(urls))]


def test_cold_pages_are_rendered_at_most_two_at_a_time(cached_app, monkeypatch):
    """Eight residents opening eight different uncached lists: two builds at once, not eight."""
    state = _count_renders(monkeypatch)
    answers = _get_all(cached_app, [f"/guides?from={i}" for i in range(8)])
    assert all(r.status_code == 200 and "办事指南" in r.get_data(as_text=True) for r in answers)
    assert state["calls"] == 8 and state["most"] == 2


def test_a_page_being_rendered_is_waited_for_not_rendered_again(cached_app, monkeypatch):
    state = _count_renders(monkeypatch)
    answers = _get_all(cached_app, ["/guides"] * 6)
    assert state["calls"] == 1
    assert len({r.data for r in answers}) == 1 and answers[0].status_code == 200
    s = pagecache.stats(cached_app)
    assert (s["misses"], s["waited"]) == (6, 5)


def test_a_failed_render_frees_its_turn(cached_app, monkeypatch):
    """An error in a view must not leave its slot taken or its waiters hanging."""
    from kiosk import views

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    cached_app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(views.guides, "guide_cards", broken)
    answers = _get_all(cached_app, ["/guides"] * 3 + [f"/guides?n={i}" for i in range(3)])
    assert [r.status_code for r in answers] == [500] * 6
    cache = cached_app.extensions["kiosk_page_cache"]
    assert not cache.rendering
    assert all(cache.slots.acquire(timeout=0.1) for _ in range(pagecache.DEFAULT_RENDERS))
