"""Kiosk pages at county scale against waitress serving a static file of the same size.

Goal: every page's p95 ≤ 2× the static file's p95 (same size, same server, same client).
Also the terminal's memory (the county served with role terminal) with 20 concurrent
residents browsing, without and then with searches, and 4 boards polling as
display/static/board.js does. Rows go to the session's table (conftest).
"""
from __future__ import annotations

import http.client
import os
import shutil
from collections import Counter
import threading
import time
import urllib.parse

import pytest

from content import db
from tests.bench.conftest import (Board, StaticServer, board_slugs, children_cpu_seconds, cpu_seconds,
                                  interleaved_gets, percentile, record, rss_bytes, start_server,
                                  timed_gets, wait_until_idle)

REQUESTS = int(os.environ.get("KIOSK_BENCH_REQUESTS", "1000"))
BOARD_SECONDS = float(os.environ.get("KIOSK_BENCH_BOARD_SECONDS", "5"))
PAGE_GOAL = 2.0
RSS_GOAL_MB = 120
SEARCHES = ["低保", "dbgs", "补贴", "gdlbh", "养老", "公示", "村务", "zdshbz"]


def bench_pages(conn) -> dict[str, str]:
    """The pages measured, chosen from the generated county."""
    village = conn.execute("SELECT code FROM jurisdiction WHERE level = 'village' "
                           "ORDER BY code LIMIT 1").fetchone()[0]
    item = conn.execute("SELECT id FROM catalogue_item WHERE matter_id IS NOT NULL "
                        "ORDER BY id LIMIT 1").fetchone()[0]
    domain = conn.execute("SELECT domain_id FROM catalogue_item GROUP BY domain_id "
                          "ORDER BY count(*) DESC, domain_id LIMIT 1").fetchone()[0]
    matter = conn.execute("SELECT matter_id FROM notice WHERE subject_code = ? "
                          "AND matter_id IS NOT NULL ORDER BY matter_id LIMIT 1",
                          (village,)).fetchone()[0]
    return {"home": "/", "domain": f"/domains/{domain}", "item": f"/items/{item}",
            "aligned view": f"/matters/{matter}/{village}", "village list": f"/villages/{village}"}


def _poll_home(port: int, stop: threading.Event, times: list[float], pause: float = 0.1) -> None:
    """A resident opening the home page every ``pause`` seconds until ``stop``: how long
    each answer took (light enough not to keep the server from looking idle)."""
    while not stop.is_set():
        took, _ = timed_gets(port, "/", 1, warmup=0)
        times += took
        stop.wait(pause)


@pytest.fixture(scope="module")
def kiosk_server(county):
    """The county served standalone, measured once its start-up work is done. Meanwhile a
    resident opens the home page ten times a second: what those seconds cost residents."""
    server = start_server(county, "threads = 8\n")
    pid = server.proc.pid
    during: list[float] = []
    stop = threading.Event()
    poller = threading.Thread(target=_poll_home, args=(server.port, stop, during))
    poller.start()
    try:
        settled = wait_until_idle(pid)
    finally:
        stop.set()
        poller.join()
    cpu, child_cpu = cpu_seconds(pid), children_cpu_seconds(pid)
    after, _ = timed_gets(server.port, "/", 200)
    record("pages", "standalone start-up work before pages are measured (the notification round "
           "in a child process, the assessment figures in the serve process)", settled, "s", 2.0,
           "two idle seconds", note=f"CPU until then: serve process {cpu:.1f} s, its children {child_cpu:.1f} s")
    record("pages", "home p95 while the start-up work runs (one resident, 10 requests/s)",
           percentile(during, 95) * 1000, "ms", percentile(after, 95) * 1000, "home p95 once idle",
           note=f"{len(during)} requests, {sum(t > 0.02 for t in during)} over 20 ms, "
                f"slowest {max(during) * 1000:.0f} ms")
    yield server
    server.stop()


def test_pages_against_static_files(county, kiosk_server, tmp_path):
    conn = db.connect(county / "kiosk.sqlite3")
    pages = bench_pages(conn)
    conn.close()
    static_dir = tmp_path / "static"
    static_dir.mkdir()
    results = {}
    cold = {}
    for name, path in pages.items():
        t0 = time.perf_counter()
        _, body = timed_gets(kiosk_server.port, path, 1, warmup=0)
        cold[name] = time.perf_counter() - t0
        assert "<html" in body.decode()
        (static_dir / f"{name.replace(' ', '-')}.html").write_bytes(body)
        results[name] = (path, len(body))
    # A resident reading starts no session: no cookie to verify or sign on a cache hit.
    c = http.client.HTTPConnection("127.0.0.1", kiosk_server.port, timeout=60)
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    c.close()
    assert r.getheader("Set-Cookie") is None
    static = StaticServer(static_dir)
    try:
        lines = [f"{'page':14s} {'bytes':>8s} {'first ms':>8s} {'p50 ms':>8s} {'p95 ms':>8s} "
                 f"{'static p50':>10s} {'static p95':>10s}  ratio (p95 / static p95, goal ≤ 2)"]
        missed = []
        for name, (path, size) in results.items():
            times, base = interleaved_gets((kiosk_server.port, path),
                                           (static.port, f"/{name.replace(' ', '-')}.html"),
                                           REQUESTS)
            p50, s50 = percentile(times, 50) * 1000, percentile(base, 50) * 1000
            p95, s95 = percentile(times, 95) * 1000, percentile(base, 95) * 1000
            row = record("pages", f"{name} p95", p95, "ms", s95, "static file p95",
                         max_ratio=PAGE_GOAL, note=f"{path}, {size:,} bytes, first {cold[name] * 1000:.0f} ms")
            record("pages", f"{name} p50", p50, "ms", s50, "static file p50")
            if not row.ok:
                missed.append(name)
            lines.append(f"{name:14s} {size:8d} {cold[name] * 1000:8.1f} {p50:8.2f} {p95:8.2f} "
                         f"{s50:10.2f} {s95:10.2f}  ratio {row.ratio:5.2f} "
                         f"{'ok' if row.ok else 'MISSED'}   {path}")
    finally:
        static.stop()
    print("\n\nkiosk pages vs waitress serving a static file of the same size "
          f"({REQUESTS} requests each, keep-alive, interleaved; 'first' = the page's first, "
          "uncached request)")
    print("\n".join(lines))
    if os.environ.get("KIOSK_BENCH_STRICT") == "1":
        assert not missed, f"pages over {PAGE_GOAL}× static at p95: {missed}"


@pytest.fixture(scope="module")
def terminal_server(county, tmp_path_factory):
    """The county served as a county service hall's terminal (role terminal, scope the county):
    what the 120 MB goal is about. Its hub is unreachable here, so each sync round (a child
    process) fails at once; the serve process measured is the same either way."""
    from kiosk import config
    path = tmp_path_factory.mktemp("terminal") / "county"
    shutil.copytree(county, path)
    conn = db.connect(path / "kiosk.sqlite3")
    code = conn.execute("SELECT code FROM jurisdiction WHERE level = 'county'").fetchone()[0]
    conn.close()
    settings = {k.lower(): v for k, v in config.read_instance_config(path).items()}
    settings.update(role="terminal", scope=code, hub_url="http://127.0.0.1:9", trusted_keys=[])
    config.write_instance_config(path, settings)
    server = start_server(path, "threads = 8\nsync_interval = 86400\n")
    yield server
    server.stop()


def _load(port: int, pages: list[str], slugs: list[str], seconds: float,
          pid: int) -> tuple[float, int, list[Board], list[str]]:
    """20 residents cycling through ``pages`` and 4 boards polling for ``seconds``:
    (peak RSS in MB, page requests, the boards, errors)."""
    stop = time.monotonic() + seconds
    errors: list[str] = []
    counts = [0] * 20
    samples = []

    def client(n: int):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = n
        while time.monotonic() < stop:
            path = pages[i % len(pages)]
            i += 7
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(f"{path}: {r.status}")
                counts[n] += 1
            except OSError as e:
                errors.append(f"{path}: {e}")
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.close()

    boards = [Board(port, slug, BOARD_SECONDS) for slug in slugs]
    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    threads += [threading.Thread(target=b.run, args=(stop, errors)) for b in boards]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        samples.append(rss_bytes(pid))
        time.sleep(0.5)
    for t in threads:
        t.join()
    return max(samples) / 2**20, sum(counts), boards, errors


def test_rss_under_load(county, terminal_server):
    """20 residents browsing, 4 real boards polling; the terminal's memory stays small.

    Twice: first without searching, then with searches among the pages. Until search needs
    no pypinyin, the first search loads its dictionaries (about 55 MB) into the serve process;
    a terminal loads them nowhere else (its sync runs in a child process).
    """
    server = terminal_server
    conn = db.connect(county / "kiosk.sqlite3")
    pages = list(bench_pages(conn).values())
    villages = [r[0] for r in conn.execute(
        "SELECT code FROM jurisdiction WHERE level = 'village' ORDER BY code LIMIT 40")]
    conn.close()
    pages += [f"/villages/{v}" for v in villages] + ["/notices", "/guides", "/domains"]
    searches = ["/search?q=" + urllib.parse.quote(q) for q in SEARCHES]
    seconds = float(os.environ.get("KIOSK_BENCH_LOAD_SECONDS", "20"))
    slugs = board_slugs(server.port)
    pid = server.proc.pid
    time.sleep(5)                     # anything a start leaves running in the background
    idle_rss = rss_bytes(pid) / 2**20
    errors: list[str] = []
    peaks = {}
    for phase, phase_pages in (("no search", pages), ("with search", pages + searches)):
        peak, total, boards, errs = _load(server.port, phase_pages, slugs, seconds, pid)
        errors += errs
        polls = sum(b.requests for b in boards)
        statuses = Counter()
        for b in boards:
            statuses.update(b.statuses)
        print(f"\nterminal RSS under load, {phase} (20 residents, 4 boards {slugs} "
              f"polling every {BOARD_SECONDS:g} s, {seconds:.0f} s, {total} page requests, {polls} "
              f"board requests {dict(statuses)}, {total / seconds:.0f} req/s): idle {idle_rss:.1f} MB, "
              f"peak {peak:.1f} MB; ratio {peak / RSS_GOAL_MB:.2f} of the {RSS_GOAL_MB} MB goal")
        record("memory", f"terminal RSS peak, 20 residents + 4 boards, {phase}", peak, "MB",
               idle_rss, "idle RSS", max_value=RSS_GOAL_MB,
               note=f"{seconds:.0f} s, {total + polls} requests, boards every {BOARD_SECONDS:g} s")
        assert total > 0 and all(b.requests > 3 for b in boards)
        peaks[phase] = peak
    assert not errors, errors[:5]
    if os.environ.get("KIOSK_BENCH_STRICT") == "1":
        assert max(peaks.values()) <= RSS_GOAL_MB
