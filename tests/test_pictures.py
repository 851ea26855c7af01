"""Pictures of attachments: made at upload (bounded), confirmed at review, served to residents;
PDF originals only to staff, as downloads."""
from __future__ import annotations

import io
import json
import subprocess

import pytest
from PIL import Image

import pdf_util
from admin_util import login, user_row
from content import editing, pictures
from content.uploads import UploadError, read_blob, store_upload

VILLAGE = "340499100201"
OTHER_VILLAGE = "340499001001"


def _photo(size=(5000, 3000)) -> bytes:
    img = Image.merge("RGB", [Image.effect_noise(size, 40)] * 3)     # photo-like: JPEG wins
    exif = Image.Exif()
    exif[0x013B] = "Zhang San"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (32.0, 37.0, 12.5)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=80)
    return buf.getvalue()


# --- making pictures -----------------------------------------------------------

def test_image_is_capped_and_gets_a_screen_version_without_metadata(tmp_path):
    up = store_upload(tmp_path, "发票.jpg", _photo())
    original = Image.open(io.BytesIO(read_blob(tmp_path, up.sha256)))
    assert max(original.size) == 4096 and dict(original.getexif()) == {}
    [screen] = up.pictures
    data = read_blob(tmp_path, screen["sha256"])
    img = Image.open(io.BytesIO(data))
    assert (screen["width"], screen["height"]) == img.size and max(img.size) == pictures.SCREEN_SIDE
    assert b"Zhang San" not in data and dict(img.getexif()) == {} and screen["size"] == len(data)
    assert screen["mime"] == "image/jpeg"


def test_pdf_pages_are_rasterised_with_a_fixed_long_side(tmp_path):
    up = store_upload(tmp_path, "明白卡.pdf", pdf_util.benign(3))
    assert up.mime == "application/pdf" and len(up.pictures) == 3
    for p in up.pictures:
        img = Image.open(io.BytesIO(read_blob(tmp_path, p["sha256"])))
        assert max(img.size) == pictures.PDF_PAGE_SIDE and img.size == (p["width"], p["height"])
    # Distinct pages, and page 1 really shows the blue box of the test page.
    assert len({p["sha256"] for p in up.pictures}) == 3
    first = Image.open(io.BytesIO(read_blob(tmp_path, up.pictures[0]["sha256"]))).convert("RGB")
    w, h = first.size
    r, g, b = first.getpixel((int(w * 0.4), int(h * 0.8)))
    assert r < 30 and g < 30 and b > 225                          # JPEG: nearly pure blue
    assert all(p["mime"] == "image/jpeg" for p in up.pictures)


def test_pdf_page_cap_and_a_huge_page_size_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(pictures, "PDF_MAX_PAGES", 3)
    with pytest.raises(UploadError, match="共 4 页，超过 3 页"):
        store_upload(tmp_path, "长文件.pdf", pdf_util.benign(4))
    assert not (tmp_path / "blobs").exists()
    # A page of 200 × 200 inches would be 30000 px wide at 150 dpi: it is scaled instead.
    objs = pdf_util.page_objects(1)
    objs[4] = objs[4].replace(b"/MediaBox [0 0 595 842]", b"/MediaBox [0 0 14400 14400]")
    up = store_upload(tmp_path, "海报.pdf", pdf_util.build(objs))
    assert (up.pictures[0]["width"], up.pictures[0]["height"]) == (1800, 1800)


def test_rasteriser_runs_under_limits_and_a_timeout(tmp_path, monkeypatch):
    seen = []
    real = subprocess.run

    def spy(cmd, **kw):
        seen.append((cmd, kw))
        return real(cmd, **kw)
    monkeypatch.setattr(subprocess, "run", spy)
    store_upload(tmp_path, "a.pdf", pdf_util.benign(1))
    assert len(seen) == 2                      # pdfinfo, then pdftoppm
    for cmd, kw in seen:
        assert cmd[0].endswith("prlimit") and f"--as={pictures.RASTER_MEMORY}" in cmd
        assert any(c.startswith("--cpu=") for c in cmd) and any(c.startswith("--fsize=") for c in cmd)
        assert kw["timeout"] > 0
    assert "-scale-to" in seen[1][0][0:] and seen[1][0][seen[1][0].index("-scale-to") + 1] == "1800"

    def too_slow(cmd, **kw):
        raise subprocess.TimeoutExpired(cmd, kw["timeout"])
    monkeypatch.setattr(subprocess, "run", too_slow)
    with pytest.raises(UploadError, match="超时"):
        store_upload(tmp_path / "x", "b.pdf", pdf_util.benign(2))
    assert not (tmp_path / "x" / "blobs").exists()


def test_broken_pdf_that_passes_inspection_is_refused_by_rasteriser(tmp_path):
    data = pdf_util.build({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"})
    with pytest.raises(UploadError, match="损坏|没有页面"):
        store_upload(tmp_path, "空.pdf", data)


# --- review and the resident screens -------------------------------------------

def _notice_with_uploads(app, conn, files):
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {
        "jurisdiction_code": VILLAGE, "subject_code": VILLAGE, "title": "低保政策明白卡",
        "kind": "公示", "priority": "普通", "body": "请看附件中的明白卡和发票照片。"})
    c = app.test_client()
    tok = login(c, "village-editor")
    for name, data in files:
        r = c.post(f"/admin/notices/{nid}/attachments", data={"csrf_token": tok, "file": (io.BytesIO(data), name)})
        assert r.status_code == 302
    editing.submit(conn, editor, "notice", nid)
    return nid


def test_review_requires_confirming_the_pictures_and_audits_it(app, conn):
    nid = _notice_with_uploads(app, conn, [("发票.jpg", _photo((800, 600))), ("明白卡.pdf", pdf_util.benign(2))])
    c = app.test_client()
    tok = login(c, "village-supervisor")
    page = c.get(f"/admin/notices/{nid}").get_data(as_text=True)
    assert "图片和 PDF 页面" in page and 'name="pictures_checked"' in page and "下载原件" in page
    assert page.count("<img ") >= 3                            # one photo + two pages to look at
    r = c.post(f"/admin/notices/{nid}/approve", data={"csrf_token": tok})
    assert r.status_code == 302
    assert "勾选确认" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert conn.execute("SELECT status FROM notice WHERE id = ?", (nid,)).fetchone()[0] == "submitted"
    r = c.post(f"/admin/notices/{nid}/approve", data={"csrf_token": tok, "pictures_checked": "1"})
    assert r.status_code == 302
    assert conn.execute("SELECT status FROM notice WHERE id = ?", (nid,)).fetchone()[0] == "published"
    row = conn.execute("SELECT * FROM audit_log WHERE action = 'confirm_pictures' AND entity_id = ?",
                       (str(nid),)).fetchone()
    assert row["username"] == "village-supervisor"
    after = json.loads(row["after"])
    assert [(a["name"], a["pictures"]) for a in after["attachments"]] == [("发票.jpg", 1), ("明白卡.pdf", 2)]
    assert "确认图片中没有个人信息" in c.get("/admin/audit").get_data(as_text=True)


def test_residents_see_pictures_and_never_the_pdf(app, conn):
    nid = _notice_with_uploads(app, conn, [("发票.jpg", _photo((800, 600))), ("明白卡.pdf", pdf_util.benign(2))])
    rows = conn.execute("SELECT * FROM attachment")  # none yet: not approved
    assert rows.fetchall() == []
    pending = [p["sha256"] for a in editing.working(conn, editing.entity("notice"), nid)["data"]["attachments"]
               for p in a["pictures"]]
    public = app.test_client()
    assert all(public.get(f"/pictures/{sha}").status_code == 404 for sha in pending)   # not approved
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid, pictures_checked=True)
    page = public.get(f"/notices/{nid}").get_data(as_text=True)
    assert "图片和附件" in page and "共 2 页" in page and page.count("data-viewer ") + page.count("data-viewer\n") >= 3
    atts = conn.execute("SELECT * FROM attachment WHERE notice_id = ? ORDER BY id", (nid,)).fetchall()
    photo, pdf = atts
    for a in atts:
        for p in json.loads(a["pictures"]):
            assert f'/pictures/{p["sha256"]}' in page
            r = public.get(f'/pictures/{p["sha256"]}')
            assert r.status_code == 200 and r.mimetype == p["mime"] and r.headers["Cache-Control"] == "public, max-age=3600"
            assert r.data == read_blob(app.config["DATA_DIR"], p["sha256"])
            assert public.get(f'/pictures/{p["sha256"]}',
                              headers={"If-None-Match": f'"{p["sha256"]}"'}).status_code == 304
    # The PDF original: not a picture, never served to residents, not linked.
    assert public.get(f'/pictures/{pdf["sha256"]}').status_code == 404
    assert pdf["sha256"] not in page
    assert public.get(f'/admin/notices/{nid}/attachments/{pdf["sha256"]}').status_code in (302, 401)
    assert public.get("/pictures/" + "0" * 64).status_code == 404
    assert public.get("/pictures/../../kiosk.toml").status_code == 404
    # Staff get the original as a download, sandboxed.
    staff = app.test_client()
    login(staff, "village-editor")
    r = staff.get(f'/admin/notices/{nid}/attachments/{pdf["sha256"]}')
    assert r.status_code == 200 and r.data.startswith(b"%PDF-")
    assert r.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert "%E6%98%8E%E7%99%BD%E5%8D%A1.pdf" in r.headers["Content-Disposition"]
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    assert r.mimetype == "application/pdf" and r.headers["X-Content-Type-Options"] == "nosniff"
    # A withdrawn notice's pictures go with it.
    editing.withdraw(conn, user_row(conn, "village-editor"), "notice", nid, "测试")
    sha = json.loads(photo["pictures"])[0]["sha256"]
    assert public.get(f"/pictures/{sha}").status_code == 404
    assert public.get(f"/pictures/{sha}", headers={"If-None-Match": f'"{sha}"'}).status_code == 404


def test_another_villages_instance_does_not_serve_the_picture(app, conn, tmp_path):
    nid = _notice_with_uploads(app, conn, [("发票.jpg", _photo((400, 300)))])
    editing.approve(conn, user_row(conn, "village-supervisor"), "notice", nid, pictures_checked=True)
    sha = json.loads(conn.execute("SELECT pictures FROM attachment WHERE notice_id = ?", (nid,))
                     .fetchone()[0])[0]["sha256"]
    assert app.test_client().get(f"/pictures/{sha}").status_code == 200
    app.config["SCOPE"] = OTHER_VILLAGE            # a terminal of another village
    assert app.test_client().get(f"/pictures/{sha}").status_code == 404
