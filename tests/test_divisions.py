"""Townships and villages from the statistics bureau's file; newer years; 撤并 merge and retire."""
from __future__ import annotations

from io import BytesIO

import pytest

from content import db, divisions, jurisdictions
from content.sheets import SheetError
from kiosk import config, create_app

from admin_util import token
from county_util import (DIVISIONS_2024, HILL_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, VILLAGE, cli,
                         make_county, xlsx_bytes)


@pytest.fixture
def county(tmp_path):
    path = tmp_path / "hub"
    make_county(path, divisions=None)
    conn = db.connect(path / config.DATABASE_NAME)
    yield path, conn
    conn.close()


def _places(conn):
    return {r["code"]: (r["name"], r["level"], r["kind"], r["parent_code"], r["urban_rural"])
            for r in conn.execute("SELECT * FROM jurisdiction WHERE level != 'county'")}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_gives_the_same_tree(county, encoding):
    _path, conn = county
    result = divisions.import_divisions(conn, DIVISIONS_2024.encode(encoding), "区划.csv")
    assert (result.townships, result.villages) == (3, 5)
    places = _places(conn)
    assert places["340421001000"][:3] == ("城关街道", "township", "街道")
    assert places[TOWNSHIP][:3] == ("刘集镇", "township", "镇")
    assert places[HILL_TOWNSHIP][:3] == ("大山乡", "township", "乡")
    assert places["340421001001"] == ("城北社区居民委员会", "village", "社区", "340421001000", "111")
    assert places[VILLAGE] == ("刘集村委会", "village", "村", TOWNSHIP, "220")
    assert places["340421200201"][2] == "村"


def test_xlsx_with_header_variants(county):
    _path, conn = county
    rows = [["代码", "区划名称", "城乡分类"], [TOWNSHIP, "刘集镇", None], [int(VILLAGE), "刘集村委会", "220"]]
    book = xlsx_bytes(rows, title_row=["2024年统计用区划代码和城乡划分代码（凤台县）"])
    result = divisions.import_divisions(conn, book, "divisions.xlsx")
    assert (result.townships, result.villages) == (1, 1)
    assert _places(conn)[VILLAGE][:3] == ("刘集村委会", "village", "村")


def test_bad_rows_are_all_named_and_nothing_is_written(county):
    _path, conn = county
    bad = DIVISIONS_2024 + "34042110020,,短码村\n340421100204,9x9,怪村\n340421100201,220,刘集村委会\n" \
                           "340421300201,220,无乡村\n"
    with pytest.raises(SheetError) as e:
        divisions.import_divisions(conn, bad.encode(), "区划.csv")
    text = str(e.value)
    assert "第11行" in text and "12位" in text
    assert "第12行" in text and "城乡分类代码" in text
    assert "第13行" in text and "第6行" in text and "重复" in text
    assert "第14行" in text and "340421300000" in text
    assert _places(conn) == {}
    with pytest.raises(SheetError, match="表头"):
        divisions.import_divisions(conn, "a,b\n1,2\n".encode(), "x.csv")
    with pytest.raises(SheetError, match=r"\.xlsx"):
        divisions.import_divisions(conn, b"whatever", "x.xls")


def test_other_counties_rows_are_skipped(county):
    _path, conn = county
    text = DIVISIONS_2024 + "340422100000,,别县的镇\n340422100201,220,别县的村\n"
    result = divisions.import_divisions(conn, text.encode(), "city.csv")
    assert result.skipped_other == 2 and "340422100000" not in _places(conn)


def test_a_newer_year_adds_renames_and_lists_what_vanished(county):
    path, conn = county
    divisions.import_divisions(conn, DIVISIONS_2024.encode(), "2024.csv")
    newer = (DIVISIONS_2024.replace("340421100203,220,老庄村委会\n", "")
             .replace("新集村委会", "新集社区居民委员会")
             + "340421100204,220,红旗村委会\n")
    f = path.parent / "2025.csv"
    f.write_text(newer, encoding="utf-8")
    r = cli("import-divisions", f, "--data-dir", path)
    assert r.exit_code == 0, r.output
    assert "新增 1 个，改名 1 个" in r.output and "撤并" in r.output
    places = _places(conn)
    assert places[OTHER_VILLAGE][:3] == ("新集社区居民委员会", "village", "社区")
    assert places["340421100203"][0] == "老庄村委会"          # never deleted
    assert [p["code"] for p in divisions.pending(conn)] == ["340421100203"]
    changes = {(c["code"], c["change"]) for c in divisions.history(conn)}
    assert {("340421100204", "added"), (OTHER_VILLAGE, "renamed"), ("340421100203", "missing")} <= changes
    # Importing the same newer file again changes nothing and lists nothing twice.
    again = divisions.import_divisions(conn, newer.encode(), "2025.csv")
    assert (again.added, again.renamed, again.missing) == ([], [], [])
    assert len(divisions.pending(conn)) == 1


def test_merge_moves_content_and_accounts_and_keeps_history(county):
    path, conn = county
    divisions.import_divisions(conn, DIVISIONS_2024.encode(), "2024.csv")
    r = cli("user", "add", "laozhuang", "--role", "village-editor", "--jurisdiction", "340421100203",
            "--data-dir", path)
    assert r.exit_code == 0
    divisions.import_divisions(conn, DIVISIONS_2024.replace("340421100203,220,老庄村委会\n", "").encode(),
                               "2025.csv")
    app = create_app({"DATA_DIR": str(path), "TESTING": True})
    admin = app.test_client()
    _first_sign_in(admin, conn, path)
    editor_session = admin  # the admin also writes a village item for the vanished village
    tok = token(editor_session, "/admin/village-items/new")
    r = editor_session.post("/admin/village-items/new", data={
        "csrf_token": tok, "jurisdiction_code": "340421100203", "category": "村级财务", "title": "老庄村财务"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1000]
    page = admin.get("/admin/county").get_data(as_text=True)
    assert "老庄村委会" in page and "待处理" in page
    r = admin.post("/admin/county/divisions/340421100203/merge",
                   data={"csrf_token": token(admin, "/admin/county"), "successor": VILLAGE})
    assert r.status_code == 302
    old = jurisdictions.get(conn, "340421100203")
    assert old["retired_on"] is not None and old["successor_code"] == VILLAGE
    assert conn.execute("SELECT jurisdiction_code FROM village_item WHERE title = '老庄村财务'"
                        ).fetchone()[0] == VILLAGE
    assert conn.execute("SELECT jurisdiction_code FROM user WHERE username = 'laozhuang'").fetchone()[0] == VILLAGE
    assert divisions.pending(conn) == []
    assert "340421100203" not in [r["code"] for r in jurisdictions.children(conn, TOWNSHIP)]
    assert ("340421100203", "merged") in {(c["code"], c["change"]) for c in divisions.history(conn)}
    assert "并入 刘集村委会" in admin.get("/admin/county").get_data(as_text=True)


def test_retire_keeps_content_and_disables_accounts(county):
    path, conn = county
    divisions.import_divisions(conn, DIVISIONS_2024.encode(), "2024.csv")
    cli("user", "add", "laozhuang", "--role", "village-editor", "--jurisdiction", "340421100203",
        "--data-dir", path)
    divisions.import_divisions(conn, DIVISIONS_2024.replace("340421100203,220,老庄村委会\n", "").encode(),
                               "2025.csv")
    app = create_app({"DATA_DIR": str(path), "TESTING": True})
    admin = app.test_client()
    _first_sign_in(admin, conn, path)
    r = admin.post("/admin/county/divisions/340421100203/retire",
                   data={"csrf_token": token(admin, "/admin/county")})
    assert r.status_code == 302
    assert jurisdictions.get(conn, "340421100203")["retired_on"] is not None
    assert conn.execute("SELECT active FROM user WHERE username = 'laozhuang'").fetchone()[0] == 0
    # A later file that lists it again brings it back.
    result = divisions.import_divisions(conn, DIVISIONS_2024.encode(), "2026.csv")
    assert result.returned == ["340421100203"]
    assert jurisdictions.get(conn, "340421100203")["retired_on"] is None


def test_admin_import_page_refuses_with_row_numbers(county):
    path, conn = county
    app = create_app({"DATA_DIR": str(path), "TESTING": True})
    admin = app.test_client()
    _first_sign_in(admin, conn, path)
    r = admin.post("/admin/county/divisions", data={
        "csrf_token": token(admin, "/admin/county"),
        "file": (BytesIO("区划代码,名称\n340421100000,刘集镇\n34042110020X,坏\n".encode("gbk")), "a.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 400 and "第3行" in r.get_data(as_text=True)
    assert _places(conn) == {}
    r = admin.post("/admin/county/divisions", data={
        "csrf_token": token(admin, "/admin/county"),
        "file": (BytesIO(DIVISIONS_2024.encode("gbk")), "a.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302
    assert "村（社区）<strong>5</strong>" in admin.get("/admin/county").get_data(as_text=True)


def test_without_a_county_the_import_says_what_to_do(tmp_path):
    cli("init", "--role", "hub", "--data-dir", tmp_path / "h")
    f = tmp_path / "d.csv"
    f.write_text(DIVISIONS_2024, encoding="utf-8")
    r = cli("import-divisions", f, "--data-dir", tmp_path / "h")
    assert r.exit_code != 0 and "kiosk init --county" in r.output


PASSWORD = "Fengtai-county-hub-2027!"


def _first_sign_in(client, conn, path):
    """Sign the county admin in, replacing the one-time password through the page."""
    from content import users
    with db.immediate(conn):
        users.set_password(conn, "xian-admin", "temp-one-time-aaaa", one_time=True)
    r = client.post("/admin/login", data={"username": "xian-admin", "password": "temp-one-time-aaaa",
                                          "csrf_token": token(client)})
    assert r.status_code == 302
    r = client.post("/admin/password", data={"csrf_token": token(client, "/admin/password"),
                                             "current": "temp-one-time-aaaa", "new": PASSWORD,
                                             "again": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
