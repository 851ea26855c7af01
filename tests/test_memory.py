"""What keeps the serve process small: light guide lists, pypinyin only where needed (issue #9)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from content import db, guides, usage
from kiosk import config, create_app, touch


@pytest.fixture
def conn(data_dir):
    c = db.connect(data_dir / "kiosk.sqlite3")
    yield c
    c.close()


def test_guide_cards_are_list_guides_without_materials_and_steps(conn):
    codes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    full = guides.list_guides(conn, codes)
    cards = guides.guide_cards(conn, codes)
    assert len(full) > 5
    keys = set(guides.CARD_COLUMNS) | {"domain_name", "jurisdiction_name"}
    assert cards == [{k: g[k] for k in keys} for g in full]          # same guides, same order
    assert not {"materials", "steps"} & set(cards[0])
    domain = full[0]["domain_id"]
    assert [g["id"] for g in guides.guide_cards(conn, codes, domain)] == \
        [g["id"] for g in guides.list_guides(conn, codes, domain)]
    some = [full[3]["id"], full[1]["id"], 999999]
    assert [g["id"] for g in guides.guide_cards(conn, codes, ids=some)] == [full[1]["id"], full[3]["id"]]
    assert [g["id"] for g in guides.guide_cards(conn, codes, limit=2)] == [g["id"] for g in full[:2]]


def test_popular_guides_most_viewed_first_topped_up_in_list_order(data_dir, conn):
    codes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction")]
    full = guides.list_guides(conn, codes)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "TODAY": "2026-11-26"})
    viewed = full[4]["id"]
    conn.execute("BEGIN")
    usage.record_view(conn, "guide", viewed, touch.date(2026, 11, 26), 3)
    conn.execute("COMMIT")
    with app.test_request_context("/search"):
        shown = [g["id"] for g in touch._popular_guides(db.get_db(), limit=4)]
    assert shown == [viewed] + [g["id"] for g in full if g["id"] != viewed][:3]


def _modules_after_start(data_dir, role: str) -> str:
    """Start the app for ``role`` in a fresh interpreter; is pypinyin loaded 3 s later?"""
    settings = {k.lower(): v for k, v in config.read_instance_config(data_dir).items()}
    settings["role"] = role
    if role == "terminal":
        settings.update(hub_url="http://127.0.0.1:9", scope="340499100201")
    config.write_instance_config(data_dir, settings)
    script = textwrap.dedent(f"""
        import sys, time
        from kiosk import create_app
        app = create_app({{"DATA_DIR": {str(data_dir)!r}}})
        app.test_client().get("/")
        time.sleep(3)
        print("pypinyin" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_terminal_does_not_load_pypinyin_at_start(data_dir):
    assert _modules_after_start(data_dir, "terminal") == "False"


def test_a_standalone_instance_still_warms_pypinyin_up(data_dir):
    """Staff edit content there: the index triggers need it anyway, searches get it early."""
    assert _modules_after_start(data_dir, "standalone") == "True"
