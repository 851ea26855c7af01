"""Pictures from upload on the hub to a village terminal's resident screens, over real sync."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from content.uploads import read_blob
from kiosk import create_app
from sync import publish, terminal

from conftest import OTHER_VILLAGE, VILLAGE, make_terminal, tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pictures_util import notice_with_pictures  # noqa: E402


def test_uploaded_pictures_reach_the_village_terminal(hub, term, tmp_path):
    hconn = hub.conn()
    nid = notice_with_pictures(hub.app, hconn, VILLAGE)
    rows = hconn.execute("SELECT * FROM attachment WHERE notice_id = ? ORDER BY id", (nid,)).fetchall()
    hconn.close()
    image, pdf = rows
    image_pics, pdf_pics = json.loads(image["pictures"]), json.loads(pdf["pictures"])
    assert len(image_pics) == 1 and len(pdf_pics) == 2
    # The demo's 紧急 notice would pre-empt the board's rotation: it has ended here.
    hub.execute("UPDATE notice SET status = 'withdrawn' WHERE priority = '紧急'")
    hub.publish()
    files = json.loads(hub.manifest_bytes(VILLAGE))["signed"]["files"]
    for p in image_pics + pdf_pics:
        assert files[f"blob/{p['sha256']}"]["length"] == p["size"]
    assert f"blob/{pdf['sha256']}" not in files                  # the PDF stays on the hub
    assert f"blob/{image['sha256']}" not in files                # so does the image's full original
    assert not any(f"blob/{p['sha256']}" in json.loads(hub.manifest_bytes(OTHER_VILLAGE))["signed"]["files"]
                   for p in image_pics)

    assert terminal.sync_once(term).ok
    assert not publish.attachment_path(term, pdf["sha256"]).exists()
    app = create_app({"DATA_DIR": str(term), "TESTING": True})
    client = app.test_client()
    page = client.get(f"/notices/{nid}").get_data(as_text=True)
    assert "图片和附件" in page and "低保明白卡.png" in page and "共 2 页" in page
    for p in image_pics + pdf_pics:
        assert f"/pictures/{p['sha256']}" in page
        r = client.get(f"/pictures/{p['sha256']}")
        assert r.status_code == 200 and r.data == read_blob(hub.data_dir, p["sha256"])
    assert client.get(f"/pictures/{pdf['sha256']}").status_code == 404
    # The village board rotates the pictures (the image and both pages of the short PDF).
    deck = client.get("/display/xinghuacun").get_data(as_text=True)
    for p in image_pics + pdf_pics:
        assert f'src="/pictures/{p["sha256"]}"' in deck
    assert deck.count("slide-picture") >= 3

    for p in image_pics + pdf_pics:
        assert publish.attachment_path(term, p["sha256"]).is_file()
    # Withdrawn on the hub: gone from the terminal's screens after the next sync.
    hub.execute("UPDATE notice SET status = 'withdrawn' WHERE id = ?", (nid,))
    hub.publish()
    assert terminal.sync_once(term).ok
    assert client.get(f"/notices/{nid}").status_code == 404
    assert client.get(f"/pictures/{image_pics[0]['sha256']}").status_code == 404
    # ... and from its disk: a picture withdrawn (say, for a number seen too late) is deleted.
    for p in image_pics + pdf_pics:
        assert not publish.attachment_path(term, p["sha256"]).exists()
    tc = tconn(term)
    assert tc.execute("SELECT count(*) FROM attachment WHERE notice_id = ?", (nid,)).fetchone()[0] == 0
    tc.close()


def test_other_village_terminal_never_gets_them(hub, tmp_path):
    hconn = hub.conn()
    notice_with_pictures(hub.app, hconn, VILLAGE)
    hconn.close()
    hub.publish()
    other = make_terminal(tmp_path / "other", hub.url, [hub.pubkey], hub.enroll(OTHER_VILLAGE),
                          scope=OTHER_VILLAGE)
    assert terminal.sync_once(other).ok
    assert not (other / "blobs").exists() or not any(p.is_file() for p in (other / "blobs").rglob("*"))
