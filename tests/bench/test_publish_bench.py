"""Hub publish benchmarks (make bench): a round with nothing changed, after a 1 % change and
when manifests fall due for re-signing, each in a fresh process as `kiosk serve` runs it
(sync.publish_round), with its wall time, CPU time and peak RSS.

The baseline, measured in the same run, is a round that remembers nothing: the row cache
and the last round's fingerprint emptied (sync.publish_state), so every row is read,
masked, encoded and every chunk hashed, as every round did before the hub remembered.
The county is tests/bench/generate.py's (KIOSK_BENCH_SCALE).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from content import db
from kiosk import config
from sync import bundle, publish
from tests.bench.conftest import record

ROOT = Path(__file__).resolve().parents[2]
MB = 2 ** 20

# One round in a fresh interpreter: wall and CPU of publish_all, the process's peak RSS.
ROUND = """
import json, sys, time
from datetime import timedelta
from pathlib import Path
from content import db
from sync import bundle, publish
data_dir, later_hours = Path(sys.argv[1]), float(sys.argv[2])
conn = db.open_database(data_dir / "kiosk.sqlite3")
now = bundle.utcnow() + timedelta(hours=later_hours)
wall, cpu = time.perf_counter(), time.process_time()
results = publish.publish_all(data_dir, conn, now=now)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
# VmHWM, not ru_maxrss: that one carries the parent's peak over fork and exec.
hwm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"wall": wall, "cpu": cpu, "rss": hwm,
                  "changed": sum(r["changed"] for r in results), "scopes": len(results)}))
"""


def _round(hub: Path, later_hours: float = 0) -> dict:
    out = subprocess.run([sys.executable, "-c", ROUND, str(hub), str(later_hours)], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _forget(hub: Path) -> None:
    """As if the hub remembered nothing of earlier rounds (the baseline)."""
    conn = db.connect(hub / config.DATABASE_NAME)
    conn.execute("DELETE FROM publish_row")
    conn.execute("DELETE FROM meta WHERE key IN ('publish_seen', 'publish_row_token')")
    conn.close()


def _change_one_percent(hub: Path) -> int:
    """New notices and edits of the most recent ones, as tests/bench/test_sync_bench.py."""
    conn = db.connect(hub / config.DATABASE_NAME)
    n = conn.execute("SELECT count(*) FROM notice").fetchone()[0]
    half = max(1, n // 200)
    conn.execute("BEGIN")
    conn.execute("UPDATE notice SET title = title || '（更正）', rev = rev + 1 WHERE id IN "
                 "(SELECT id FROM notice ORDER BY id DESC LIMIT ?)", (half,))
    conn.execute("INSERT INTO notice(jurisdiction_code, subject_code, kind, title, body, status, published_at) "
                 "SELECT jurisdiction_code, subject_code, kind, title || '（续）', body, status, published_at "
                 "FROM notice ORDER BY id DESC LIMIT ?", (half,))
    conn.execute("COMMIT")
    conn.close()
    return 2 * half


def _row(name: str, m: dict, base: dict, goal_s: float | None = None, goal_mb: float | None = None):
    record("publish", f"{name} (wall)", m["wall"], "s", base["wall"], "round remembering nothing",
           max_value=goal_s, note=f"{m['changed']} of {m['scopes']} scopes re-signed")
    record("publish", f"{name} (CPU)", m["cpu"], "s", base["cpu"], "round remembering nothing")
    record("publish", f"{name} (peak RSS)", m["rss"] / MB, "MB", base["rss"] / MB,
           "round remembering nothing", max_value=goal_mb)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, county):
    path = tmp_path_factory.mktemp("bench-publish") / "hub"
    shutil.copytree(county, path, ignore=shutil.ignore_patterns("*.log", "*-wal", "*-shm"))
    config.write_instance_config(path, {"role": "hub"})
    bundle.save_private_key(bundle.generate_key(), publish.signing_key_path(path))
    first = _round(path)            # the county's first publish: every blob written
    print(f"\nfirst publish of the county: {first['wall']:.2f} s, CPU {first['cpu']:.2f} s, "
          f"peak {first['rss'] / MB:.0f} MB")
    return path


def test_bench_publish(hub):
    _round(hub)                               # the round after the first: its memory is filled
    unchanged = _round(hub)
    assert unchanged["changed"] == 0
    _forget(hub)
    baseline = _round(hub)                    # nothing changed, nothing remembered
    assert baseline["changed"] == 0
    notices = _change_one_percent(hub)
    changed = _round(hub)
    assert changed["changed"] > 0
    _forget(hub)
    notices_b = _change_one_percent(hub)
    baseline_change = _round(hub)             # the same size of change, nothing remembered
    resign = _round(hub, later_hours=publish.DEFAULT_RESIGN_HOURS + 1)
    assert resign["changed"] == resign["scopes"]
    for name, m in (("unchanged", unchanged), ("no memory, unchanged", baseline),
                    (f"1 % change ({notices} notices)", changed),
                    (f"no memory, 1 % change ({notices_b} notices)", baseline_change),
                    ("re-sign all, unchanged", resign)):
        print(f"publish {name}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s, peak {m['rss'] / MB:.0f} MB, "
              f"{m['changed']} of {m['scopes']} scopes new")
    _row("nothing changed", unchanged, baseline, goal_s=1, goal_mb=100)
    _row("1 % change", changed, baseline_change, goal_s=3)
    _row("re-sign due, nothing changed", resign, baseline)
    if os.environ.get("KIOSK_BENCH_STRICT") == "1":
        assert unchanged["wall"] <= 1 and unchanged["rss"] <= 100 * MB and changed["wall"] <= 3


def test_publish_cli_after_bench_is_consistent(hub):
    """What the rounds above left is what a round remembering nothing cuts."""
    _forget(hub)
    conn = db.connect(hub / config.DATABASE_NAME)
    before = {r[0]: r[1] for r in conn.execute("SELECT scope, version FROM sync_scope")}
    results = publish.publish_all(hub, conn, now=bundle.utcnow() + timedelta(hours=2))
    conn.close()
    assert not any(r["changed"] for r in results)
    assert {r["scope"]: r["version"] for r in results} == before
