"""A notice with pictures, taken through the admin as staff do it: upload, submit, review with
the pictures confirmed. Used by the app, sync and browser tests of pictures."""
from __future__ import annotations

import io
import subprocess

from PIL import Image, ImageDraw, ImageFont

from admin_util import login, user_row
from content import editing

LINES = ("一、谁可以申请：家庭人均收入低于当地低保标准", "二、带什么材料：户口簿、收入证明",
         "三、到哪里办：村便民服务站或镇民政办", "四、多长时间：受理后20个工作日内办结",
         "五、咨询电话：镇民政办（办公电话）")


def _font(size: int, bold: bool = False):
    name = "Noto Sans CJK SC:bold" if bold else "Noto Sans CJK SC"
    try:
        path = subprocess.run(["fc-match", "-f", "%{file}", name], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        return ImageFont.truetype(path, size)
    except (OSError, subprocess.SubprocessError, ValueError):
        return ImageFont.load_default()


def leaflet(title: str = "低保政策明白卡", size=(1200, 1700)) -> Image.Image:
    """A 明白卡: a red heading and five lines of large text on white."""
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, size[0], 220], fill=(168, 20, 31))
    d.text((60, 55), title, font=_font(96, bold=True), fill="white")
    for i, line in enumerate(LINES):
        d.text((70, 320 + i * 230), line, font=_font(44), fill=(27, 27, 27))
    d.rectangle([40, 260, size[0] - 40, size[1] - 60], outline=(168, 20, 31), width=6)
    return img


def leaflet_png() -> bytes:
    buf = io.BytesIO()
    leaflet().save(buf, "PNG")
    return buf.getvalue()


def leaflet_pdf(pages: int = 2) -> bytes:
    """A real multi-page PDF (Pillow writes it), as a scanned 明白卡 would come."""
    imgs = [leaflet(f"低保政策明白卡（{i + 1}）") for i in range(pages)]
    buf = io.BytesIO()
    imgs[0].save(buf, "PDF", save_all=True, append_images=imgs[1:], resolution=150)
    return buf.getvalue()


def notice_with_pictures(app, conn, code: str, title: str = "低保政策明白卡", body: str = "",
                         files=None) -> int:
    """Create (editor), upload the files, submit, and approve (supervisor, pictures confirmed)."""
    files = files if files is not None else [("低保明白卡.png", leaflet_png()), ("低保政策.pdf", leaflet_pdf())]
    editor = user_row(conn, "village-editor")
    nid = editing.create(conn, editor, "notice", {
        "jurisdiction_code": code, "subject_code": code, "title": title, "kind": "公告",
        "priority": "重要", "body": body})
    staff = app.test_client()
    tok = login(staff, "village-editor")
    for name, data in files:
        r = staff.post(f"/admin/notices/{nid}/attachments",
                       data={"csrf_token": tok, "file": (io.BytesIO(data), name)})
        assert r.status_code == 302
        assert "已添加附件" in staff.get(r.headers["Location"]).get_data(as_text=True)
    r = staff.post(f"/admin/notices/{nid}/submit", data={"csrf_token": tok})
    assert r.status_code == 302
    reviewer = app.test_client()
    tok = login(reviewer, "village-supervisor")
    r = reviewer.post(f"/admin/notices/{nid}/approve", data={"csrf_token": tok, "pictures_checked": "1"})
    assert r.status_code == 302
    status = conn.execute("SELECT status FROM notice WHERE id = ?", (nid,)).fetchone()[0]
    assert status == "published", status
    return nid
