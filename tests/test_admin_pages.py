"""Every admin page stays within MAX_STATEMENTS SQL statements, whatever the number of rows,
and key-paged lists walk forward and back with their filters (content/admin/paging.py).

The demo instance is made busier first (hundreds of notices, open revisions and audit rows)
so that a per-row look-up on any page shows up as hundreds of statements.
"""
from __future__ import annotations

import re
from html import unescape

import pytest

from tests.admin_pages_util import MAX_STATEMENTS, VILLAGE, add_busy_rows, admin_urls, measure
from tests.admin_util import login

@pytest.fixture
def busy(app, conn):
    add_busy_rows(conn)
    return conn


@pytest.mark.parametrize("username", ["county-admin", "township-editor", "village-editor", "village-supervisor"])
def test_every_admin_page_within_the_statement_budget(app, busy, username):
    client = app.test_client()
    login(client, username)
    urls, unfilled = admin_urls(app, busy)
    assert not unfilled, f"tests/admin_pages_util.py cannot fill the arguments of {unfilled}"
    assert "/admin/" in urls and "/admin/audit" in urls and "/admin/notices/" in urls
    over, seen = [], 0
    for url in urls:
        cost = measure(app, client, url)
        if cost.status == 200:
            seen += 1
            if cost.statements > MAX_STATEMENTS:
                over.append((url, cost.statements))
        else:
            assert cost.status in (302, 403, 404), (url, cost.status)   # not this role's page
    assert seen >= 10
    assert not over, f"admin pages over {MAX_STATEMENTS} SQL statements for {username}: {over}"


def test_the_statement_count_sees_a_per_row_lookup(app, busy, monkeypatch):
    """The guard can fail: a queue that looks each row's author up again is caught."""
    from content.admin import workbench
    real = workbench.describe

    def describe_with_lookup(conn, rev):
        conn.execute("SELECT username FROM user WHERE id = ?", (rev["author_id"],)).fetchone()
        return real(conn, rev)

    client = app.test_client()
    login(client, "village-supervisor")
    assert measure(app, client, "/admin/review").statements <= MAX_STATEMENTS
    monkeypatch.setattr(workbench, "describe", describe_with_lookup)
    assert measure(app, client, "/admin/review").statements > MAX_STATEMENTS


_LINK = re.compile(r'<a rel="(next|prev)" href="([^"]+)"')
_ROW = re.compile(r'<tr><td>(\d+)</td><td><a href="/admin/notices/')


def _page(client, url):
    html = client.get(url).get_data(as_text=True)
    links = {rel: unescape(href) for rel, href in _LINK.findall(html)}
    return [int(i) for i in _ROW.findall(html)], links, html


def test_notice_list_pages_forward_and_back_with_filters(app, busy):
    client = app.test_client()
    login(client, "county-admin")
    url = f"/admin/notices/?status=published&jurisdiction={VILLAGE}"
    expected = [r[0] for r in busy.execute(
        "SELECT id FROM notice WHERE status = 'published' AND jurisdiction_code = ? "
        "ORDER BY updated_at DESC, id DESC", (VILLAGE,))]
    assert len(expected) > 100
    pages, forward = [], []
    ids, links, html = _page(client, url)
    assert "第 1 页" in html and "prev" not in links
    while True:
        pages.append((url, ids))
        forward += ids
        if "next" not in links:
            break
        url = links["next"]
        assert "status=published" in url and f"jurisdiction={VILLAGE}" in url and "after=" in url
        ids, links, html = _page(client, url)
    assert forward == expected                   # every row once, in order, across the pages
    assert len(pages) >= 2
    # A row changed meanwhile moves to the top; the next page read by key is not shifted by it.
    busy.execute("UPDATE notice SET updated_at = '2099-01-01T00:00:00Z' WHERE id = ?", (expected[0],))
    busy.commit()
    assert _page(client, pages[1][0])[0] == pages[1][1]
    # Back from the last page: each 上一页 shows the rows that page showed on the way forward.
    ids, links, html = _page(client, pages[-1][0])
    for back_url, back_ids in reversed(pages[:-1]):
        url = links["prev"]
        assert "status=published" in url and f"jurisdiction={VILLAGE}" in url
        ids, links, html = _page(client, url)
        if back_url == pages[0][0]:
            assert ids[0] == expected[0] and ids[1:] == back_ids[1:]   # the moved row, first again
        else:
            assert ids == back_ids
    assert "第 1 页" in html and "prev" not in links


def test_audit_log_pages_by_key_with_a_filter(app, busy):
    client = app.test_client()
    login(client, "county-admin")
    url = "/admin/audit?action=submit"
    total = busy.execute("SELECT count(*) FROM audit_log WHERE action = 'submit'").fetchone()[0]
    assert total > 100
    seen, pages = 0, 0
    while url:
        html = client.get(url).get_data(as_text=True)
        rows = html.count("<tr><td>2")
        assert rows and html.count("提交") >= rows
        seen += rows
        pages += 1
        links = dict(_LINK.findall(html))
        url = unescape(links["next"]) if "next" in links else None
        if url:
            assert "action=submit" in url and "after=" in url
    assert seen == total and pages == (total + 99) // 100


def test_workbench_shows_the_head_of_each_queue_and_links_the_rest(app, busy):
    client = app.test_client()
    login(client, "village-supervisor")
    html = client.get("/admin/").get_data(as_text=True)
    waiting = busy.execute(
        "SELECT count(*) FROM revision WHERE state = 'submitted' AND jurisdiction_code = ?", (VILLAGE,)).fetchone()[0]
    assert f"等待我审核（{waiting}）" in html
    assert "/admin/review" in html and f"查看全部 {waiting} 条" in html
    queue = client.get("/admin/review").get_data(as_text=True)
    assert len(re.findall(r"/admin/notices/\d+", queue)) == min(waiting, 100)
    # Nobody is asked to review what they wrote since the last publication.
    me = busy.execute("SELECT id FROM user WHERE username = 'village-supervisor'").fetchone()[0]
    busy.execute("UPDATE revision SET author_id = ? WHERE id = (SELECT max(id) FROM revision "
                 "WHERE state = 'submitted' AND jurisdiction_code = ?)", (me, VILLAGE))
    busy.commit()
    assert f"等待我审核（{waiting - 1}）" in client.get("/admin/").get_data(as_text=True)
    editor = app.test_client()
    login(editor, "village-editor")
    drafts = busy.execute("SELECT count(*) FROM revision WHERE state IN ('draft', 'returned', 'submitted') "
                          "AND jurisdiction_code = ?", (VILLAGE,)).fetchone()[0]
    html = editor.get("/admin/").get_data(as_text=True)
    assert f"草稿和退回（{drafts}）" in html and "/admin/drafts" in html
    url, listed = "/admin/drafts", 0
    while url:
        page = editor.get(url).get_data(as_text=True)
        listed += len(re.findall(r'<td><a href="/admin/[a-z-]+/\d+">', page))
        url = unescape(dict(_LINK.findall(page)).get("next", "")) or None
    assert listed == drafts
