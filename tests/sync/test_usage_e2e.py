"""End to end: residents view pages at two terminals; each sync sends the day's totals; the hub's
assessment dashboard shows the views against each terminal, to the staff whose jurisdiction it stands in."""
from __future__ import annotations

import io
import sys
from pathlib import Path

from openpyxl import load_workbook

from content import outbox, usage
from kiosk import create_app
from sync import terminal

from conftest import OTHER_VILLAGE, VILLAGE, make_terminal, meta, tconn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from admin_util import login  # noqa: E402
from test_assessment_app import page_tables  # noqa: E402


def name_token(hub, scope: str, label: str) -> str:
    """An enrolment token carrying the terminal's name, as `kiosk enroll --name` makes it."""
    token = hub.enroll(scope)
    hub.execute("UPDATE sync_enrolment SET label = ? WHERE scope = ? AND used_at IS NULL", (label, scope))
    return token


def resident(path: Path):
    return create_app({"DATA_DIR": str(path), "TESTING": True, "USAGE_FLUSH_SECONDS": 0}).test_client()


def terminals_table(hub, username: str) -> dict[str, list[str]]:
    staff = hub.app.test_client()
    login(staff, username)
    r = staff.get("/admin/assessment/")
    assert r.status_code == 200
    return {row[0]: row for row in page_tables(r.text)["usage_terminals"]}


def test_views_at_terminals_reach_the_hub_dashboard_once(hub, tmp_path):
    village = make_terminal(tmp_path / "xinghua", hub.url, [hub.pubkey], name_token(hub, VILLAGE, "杏花村查阅点"))
    other = make_terminal(tmp_path / "nanmen", hub.url, [hub.pubkey], name_token(hub, OTHER_VILLAGE, "南门社区查阅点"),
                          scope=OTHER_VILLAGE)
    assert terminal.sync_once(village).ok and terminal.sync_once(other).ok    # enrol, first bundle
    tid = meta(village, "sync_terminal_id")

    kiosk = resident(village)
    c = tconn(village)
    guide = c.execute("SELECT id FROM guide WHERE jurisdiction_code = '340499000000' LIMIT 1").fetchone()[0]
    vitem = c.execute("SELECT id FROM village_item WHERE jurisdiction_code = ? LIMIT 1", (VILLAGE,)).fetchone()[0]
    c.close()
    for _ in range(3):
        assert kiosk.get(f"/guides/{guide}").status_code == 200
    for _ in range(2):
        assert kiosk.get(f"/village-items/{vitem}").status_code == 200
    assert resident(other).get(f"/guides/{guide}").status_code == 200
    c = tconn(village)
    assert {r[0] for r in c.execute("SELECT terminal FROM usage_view")} == {tid}   # counted under its own id
    c.close()

    assert terminal.sync_once(village).ok and terminal.sync_once(other).ok
    hc = hub.conn()
    got = {(r[0], r[1], r[2]): r[3] for r in hc.execute("SELECT terminal, kind, ref_id, views FROM usage_view")}
    assert got[(tid, "guide", guide)] == 3 and got[(tid, "village_item", vitem)] == 2
    assert hc.execute("SELECT label FROM sync_terminal WHERE id = ?", (tid,)).fetchone()[0] == "杏花村查阅点"
    # The inbox keeps a short summary of a usage record, not the running totals themselves.
    summary = hc.execute("SELECT stored_in, payload FROM sync_inbox WHERE terminal_id = ? AND kind = ?",
                         (tid, usage.UPSTREAM_KIND)).fetchone()
    assert summary[0] == "usage_view" and '"views": 5' in summary[1]
    hc.close()

    # The dashboard: the county admin sees both terminals, each with its own views.
    county = terminals_table(hub, "county-admin")
    assert county["杏花村查阅点"][1:3] == ["杏花村", "5"]
    assert county["南门社区查阅点"][1:3] == ["南门社区", "1"]
    # The village's and its township's staff see the village's terminal only.
    for username in ("village-editor", "township-editor"):
        rows = terminals_table(hub, username)
        assert set(rows) == {"杏花村查阅点", "合计"}, username
        assert rows["合计"][2] == "5"

    # More views today; the answer to the next push is lost, so the records go twice.
    for _ in range(4):
        kiosk.get(f"/guides/{guide}")
    c = tconn(village)
    c.execute("UPDATE usage_upstream SET queued_at = '2000-01-01T00:00:00Z'")    # an hour has passed
    c.close()
    assert terminal.sync_once(village).ok
    c = tconn(village)
    c.execute("UPDATE outbox SET sent_at = NULL WHERE kind = ?", (usage.UPSTREAM_KIND,))
    assert outbox.pending_count(c) == 2
    c.close()
    assert terminal.sync_once(village).ok
    rows = terminals_table(hub, "county-admin")
    assert rows["杏花村查阅点"][2] == "9"                         # 3 + 2 + 4, not counted twice
    hc = hub.conn()
    assert hc.execute("SELECT views FROM usage_view WHERE terminal = ? AND kind = 'guide'", (tid,)).fetchone()[0] == 7
    hc.close()

    # The export holds the page's numbers.
    staff = hub.app.test_client()
    login(staff, "county-admin")
    wb = load_workbook(io.BytesIO(staff.get("/admin/assessment/usage_terminals.xlsx").data))
    values = {r[0]: r for r in wb.active.iter_rows(values_only=True) if r and r[0]}
    assert values["杏花村查阅点"][1:3] == ("杏花村", 9) and values["南门社区查阅点"][2] == 1
    assert "浏览记录目前不带终端编号" not in staff.get("/admin/assessment/").text


def test_enroll_names_the_terminal(hub_dir, hub, tmp_path):
    from click.testing import CliRunner

    from kiosk.cli import main
    runner = CliRunner()
    result = runner.invoke(main, ["enroll", "--data-dir", str(hub_dir), "--scope", VILLAGE,
                                  "--name", " 杏花村  村委会一楼查询机 "])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    too_long = runner.invoke(main, ["enroll", "--data-dir", str(hub_dir), "--scope", VILLAGE, "--name", "长" * 41])
    assert too_long.exit_code != 0 and "终端名称最多40个字" in too_long.output
    path = make_terminal(tmp_path / "named", hub.url, [hub.pubkey], token)
    assert terminal.sync_once(path).ok
    hc = hub.conn()
    assert hc.execute("SELECT label FROM sync_terminal WHERE id = ?",
                      (meta(path, "sync_terminal_id"),)).fetchone()[0] == "杏花村 村委会一楼查询机"
    assert hc.execute("SELECT count(*) FROM sync_enrolment").fetchone()[0] == 1    # the refused one left nothing
    hc.close()
    staff = hub.app.test_client()
    login(staff, "county-admin")
    assert "杏花村 村委会一楼查询机" in staff.get("/admin/fleet").text
