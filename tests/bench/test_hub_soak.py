"""Hub soak: `kiosk serve` as the county hub runs its publish timer round after round while
staff edit notices and terminals poll their manifests; the serve process's RSS must stay
flat, since each round runs as a child process (sync.publish_round).

Opt-in like tests/bench/test_soak.py: `make soak` runs KIOSK_HUB_SOAK_ROUNDS rounds (6 by
default, about a minute); KIOSK_HUB_SOAK_ROUNDS=96 is a day of rounds at the default
15-minute interval, compressed to one every 10 s. The county is tests/bench/generate.py's
(KIOSK_BENCH_SCALE). Passes with every round done, 0 errors and the serve process's RSS
at the end within ±10 % of its value after the first two rounds (the warm-up).
"""
from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import statistics
import threading
import time

import pytest

from content import db
from kiosk import config
from sync import bundle, publish
from tests.bench.conftest import record, rss_bytes, start_server

ROUNDS = int(os.environ.get("KIOSK_HUB_SOAK_ROUNDS", "6"))
WARMUP_ROUNDS = 2                 # the serve process's RSS is taken after these
INTERVAL = 10                     # seconds between rounds (the setting's minimum)
DONE = re.compile(r"publish round done")
MB = 2 ** 20

pytestmark = pytest.mark.skipif(
    float(os.environ.get("KIOSK_SOAK_SECONDS", "0")) <= 0,
    reason="the soak runs on request: `make soak` or KIOSK_SOAK_SECONDS=N")


def _editor(hub, stop: threading.Event, errors: list[str]) -> None:
    """A staff member correcting a few notices now and then (each round has something to cut)."""
    rng = random.Random(7)
    conn = db.connect(hub / config.DATABASE_NAME)
    top = conn.execute("SELECT max(id) FROM notice").fetchone()[0]
    while not stop.wait(rng.uniform(2, 6)):
        try:
            ids = [rng.randint(1, top) for _ in range(5)]
            conn.execute(f"UPDATE notice SET title = title || '。' WHERE id IN ({', '.join('?' * 5)})", ids)
        except Exception as e:               # noqa: BLE001
            errors.append(f"edit: {e}")
    conn.close()


def _terminals(port: int, scopes: list[str], stop: threading.Event, errors: list[str]) -> None:
    """Terminals asking for their manifests with their ETags, as sync.watch does."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    etags: dict[str, str] = {}
    while not stop.wait(0.2):
        scope = random.choice(scopes)
        try:
            headers = {"If-None-Match": etags[scope]} if scope in etags else {}
            conn.request("GET", f"/sync/v1/{scope}/manifest.json", headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                etags[scope] = r.getheader("ETag") or ""
            elif r.status != 304:
                errors.append(f"manifest {scope}: {r.status}")
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"manifest {scope}: {e}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def test_hub_soak(tmp_path, county):
    hub = tmp_path / "hub"
    shutil.copytree(county, hub, ignore=shutil.ignore_patterns("*.log", "*-wal", "*-shm"))
    config.write_instance_config(hub, {"role": "hub"})
    bundle.save_private_key(bundle.generate_key(), publish.signing_key_path(hub))
    conn = db.connect(hub / config.DATABASE_NAME)
    scopes = [r[0] for r in conn.execute("SELECT code FROM jurisdiction ORDER BY code")]
    publish.publish_all(hub, conn)                 # the first publish: as an installed hub has it
    conn.close()
    # Notification rounds every 5 s: their first sweep over the county's year of history
    # (about 1,900 notifications raised, +45 MB once) falls in the warm-up, not among the rounds.
    server = start_server(hub, f"sync_publish_interval = {INTERVAL}\nsync_urgent_check = 5\n"
                               "notify_round_seconds = 5\n")
    log = hub / "server.log"
    stop = threading.Event()
    errors: list[str] = []
    threads = [threading.Thread(target=_editor, args=(hub, stop, errors)),
               threading.Thread(target=_terminals, args=(server.port, scopes, stop, errors))]
    samples: list[tuple[int, int]] = []             # (rounds done, serve RSS)
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + ROUNDS * INTERVAL * 3 + 120
        done = 0
        while done < ROUNDS and time.monotonic() < deadline:
            assert server.proc.poll() is None, "the hub died during the soak"
            done = len(DONE.findall(log.read_text(errors="replace")))
            samples.append((done, rss_bytes(server.proc.pid)))
            time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        server.stop()
    text = log.read_text(errors="replace")
    failed = re.findall(r"publish round (failed|killed).*", text)
    after_first = [rss for n, rss in samples if n >= WARMUP_ROUNDS]
    assert done >= ROUNDS, f"only {done} of {ROUNDS} publish rounds in time"
    baseline = statistics.mean(after_first[:3])
    final = statistics.mean(after_first[-3:])
    peak = max(rss for _, rss in samples)
    per_round = {}
    for n, rss in samples:
        per_round[n] = rss
    print("\nserve RSS at the end of each round (MB): "
          + ", ".join(f"{n}: {rss / MB:.0f}" for n, rss in sorted(per_round.items())))
    print(f"hub soak: {done} publish rounds every {INTERVAL} s while notices were edited and "
          f"{len(scopes)} scopes' manifests polled; serve RSS after warm-up ({WARMUP_ROUNDS} rounds) "
          f"{baseline / MB:.1f} MB, final {final / MB:.1f} MB, peak {peak / MB:.1f} MB; "
          f"ratio {final / baseline:.3f} (goal 0.9–1.1); {len(errors)} errors, {len(failed)} failed rounds")
    record("soak", f"hub serve RSS final vs after warm-up ({done} publish rounds)", final / MB, "MB",
           baseline / MB, f"RSS after {WARMUP_ROUNDS} rounds", min_ratio=0.9, max_ratio=1.1,
           note=f"peak {peak / MB:.1f} MB")
    assert not errors, errors[:10]
    assert not failed, failed[:5]
    assert 0.9 <= final / baseline <= 1.1
    conn = db.connect(hub / config.DATABASE_NAME)
    assert json.loads(db.get_meta(conn, "publish_seen") or "{}")      # rounds completed and remembered
    conn.close()
