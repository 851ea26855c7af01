"""Benchmark fixtures: a county-scale instance, real servers in subprocesses, timing helpers.

Run with `make bench` (not part of `make test`). KIOSK_BENCH_SCALE shrinks the county
(1.0 = 30 townships, 400 villages, 20k items, 100k notices, 2k guides).
"""
from __future__ import annotations

import http.client
import os
import hashlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

import pytest

from tests.bench.generate import generate
from tests.browser.conftest import LiveServer, free_port

HERE = Path(__file__).parent
SCALE = float(os.environ.get("KIOSK_BENCH_SCALE", "1.0"))


# ------------------------------------------------------------------ the consolidated table

# The rows live in tests/bench/results.py: pytest imports this file as "bench.conftest" while
# the bench modules import "tests.bench.conftest", two module objects; one list must serve both.
from tests.bench.results import RESULTS, Result, machine_line, record, results_table  # noqa: E402,F401

_LOAD: list[tuple[float, float, float]] = []


def pytest_sessionstart(session):
    _LOAD.append(os.getloadavg())


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    load = _LOAD + [os.getloadavg()]
    lines = [f"machine: {machine_line()}",
             f"load average (1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in load[0])}, "
             f"at end {'/'.join(f'{x:.1f}' for x in load[-1])}; scale {SCALE}", ""]
    lines += results_table(RESULTS)
    missed = [r for r in RESULTS if r.ok is False]
    lines += ["", f"{len(RESULTS)} measurements, {len(missed)} goals missed"
              + (": " + "; ".join(f"{r.area} {r.measure}" for r in missed) if missed else "")]
    terminalreporter.section("benchmarks: every measurement with its baseline and ratio")
    for line in lines:
        terminalreporter.write_line(line)
    out = Path(__file__).parents[1] / "artifacts" / "benchmarks-latest.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"(also written to {out})")


# ------------------------------------------------------------------ noticeboards

_DECK = re.compile(r'<div id="deck"[^>]*>')
_ATTR = re.compile(r'\b(hx-get|data-poll-ms)="([^"]*)"')
_ASSET = re.compile(r'\b(?:src|href)="(/[^"]*)"')


def board_slugs(port: int, n: int = 4) -> list[str]:
    """The first n boards listed on /display/ (the board list a technician opens)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/display/")
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    assert r.status == 200, f"/display/ -> {r.status}"
    slugs = list(dict.fromkeys(re.findall(r'href="/display/([a-z0-9-]+)"', body)))
    assert len(slugs) >= n, f"only {len(slugs)} boards listed"
    return slugs[:n]


class Board:
    """One wall screen as display/static/board.js drives it, over one keep-alive connection.

    Loads /display/<slug> and what the page references (CSS, htmx, board.js, the QR codes),
    then polls the deck's own hx-get URL (…/slides?v=<version>) with the headers htmx sends;
    204 means unchanged, 200 brings a new deck (new version, new QR images, fetched once, as
    the browser's cache would), 286 means the board was retired. ``interval`` overrides the
    board's poll_seconds (30 s by default) to poll harder than a real screen does.
    """

    def __init__(self, port: int, slug: str, interval: float | None = None):
        self.port, self.slug, self.interval = port, slug, interval
        self.conn: http.client.HTTPConnection | None = None
        self.seen: set[str] = set()
        self.poll_url = ""
        self.poll_seconds = 30.0
        self.requests = 0
        self.statuses: dict[int, int] = {}

    def _get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path, headers=headers or {})
                r = self.conn.getresponse()
                body = r.read()
                self.requests += 1
                self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                return r.status, body.decode("utf-8", "replace")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _take_deck(self, html: str, errors: list[str]) -> None:
        tag = _DECK.search(html)
        if not tag:
            errors.append(f"board {self.slug}: no deck in the answer")
            return
        attrs = dict(_ATTR.findall(tag.group(0)))
        self.poll_url = unescape(attrs.get("hx-get", ""))
        self.poll_seconds = int(attrs.get("data-poll-ms", "30000")) / 1000
        for asset in _ASSET.findall(html):
            asset = unescape(asset)
            if asset not in self.seen and not asset.startswith("/display/" + self.slug + "/"):
                self.seen.add(asset)
                status, _ = self._get(asset)
                if status != 200:
                    errors.append(f"board {self.slug}: {asset} -> {status}")

    def start(self, errors: list[str]) -> None:
        status, html = self._get(f"/display/{self.slug}")
        if status != 200:
            errors.append(f"board {self.slug}: page -> {status}")
            return
        self._take_deck(html, errors)

    def poll(self, errors: list[str]) -> None:
        if not self.poll_url:
            return
        status, html = self._get(self.poll_url, {
            "HX-Request": "true", "HX-Trigger": "deck", "HX-Target": "deck",
            "HX-Current-URL": f"http://127.0.0.1:{self.port}/display/{self.slug}"})
        if status == 200:
            self._take_deck(html, errors)
        elif status == 286:
            self.poll_url = ""
        elif status != 204:
            errors.append(f"board {self.slug}: poll -> {status}")

    def run(self, stop_at: float, errors: list[str]) -> None:
        try:
            self.start(errors)
            while time.monotonic() < stop_at:
                time.sleep(min(self.interval or self.poll_seconds, max(0.0, stop_at - time.monotonic())))
                if time.monotonic() < stop_at:
                    self.poll(errors)
        except OSError as e:
            errors.append(f"board {self.slug}: {e}")
        finally:
            if self.conn is not None:
                self.conn.close()


# ------------------------------------------------------------------ the county and the servers


def _county_cache() -> Path:
    """Where a generated county is kept between runs: generating writes every row through the
    search index triggers (pypinyin), minutes at full scale. Keyed by what shapes it: the
    generator, the schema and migrations, the index functions, the scale and the date."""
    from datetime import date

    from content import db
    digest = hashlib.sha256(f"{SCALE}|{date.today()}".encode())
    content = Path(db.__file__).parent
    for f in (HERE / "generate.py", HERE / "history.py", content / "schema.sql", content / "search.py",
              *sorted((content / "migrations").glob("*.sql"))):
        digest.update(f.read_bytes())
    return Path(tempfile.gettempdir()) / f"{_cache_prefix()}{digest.hexdigest()[:16]}"


def _cache_prefix() -> str:
    """Per checkout: several worktrees on one machine must not delete each other's county."""
    checkout = hashlib.sha256(str(HERE.resolve()).encode()).hexdigest()[:8]
    return f"kiosk-bench-county-{SCALE:g}-{checkout}-"


@pytest.fixture(scope="session")
def county(tmp_path_factory) -> Path:
    """A copy of the generated county for this session (servers write usage counts into it)."""
    cache = _county_cache()
    if not (cache / "kiosk.sqlite3").exists():
        for old in Path(tempfile.gettempdir()).glob(_cache_prefix() + "*"):
            shutil.rmtree(old, ignore_errors=True)
        building = cache.with_name(cache.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        counts = generate(building, scale=SCALE)
        building.rename(cache)
        print(f"\ncounty dataset (scale {SCALE}): {counts}")
    else:
        print(f"\ncounty dataset (scale {SCALE}) generated earlier: {cache}")
    path = tmp_path_factory.mktemp("bench") / "county"
    shutil.copytree(cache, path)
    return path


def start_server(data_dir: Path, config_text: str = "") -> LiveServer:
    """`kiosk serve` on a free port; settings in a TOML file given by $KIOSK_CONFIG."""
    conf = data_dir.parent / f"{data_dir.name}-serve.toml"
    conf.write_text(config_text)
    return LiveServer(data_dir, extra_env={"KIOSK_CONFIG": str(conf)}).start(timeout=120)


class StaticServer:
    """tests/bench/static_server.py in a subprocess: the baseline."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(HERE / "static_server.py"), str(folder),
                                      str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("static server did not start")
                time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def timed_gets(port: int, path: str, n: int, warmup: int = 10,
               headers: dict | None = None) -> tuple[list[float], bytes]:
    """n GETs over one keep-alive connection (as a browser does); seconds per request, last body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, body = [], b""
    for i in range(warmup + n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - t0
        if response.status != 200:
            raise AssertionError(f"GET {path} -> {response.status}")
        if i >= warmup:
            times.append(elapsed)
    conn.close()
    return times, body


def interleaved_gets(a: tuple[int, str], b: tuple[int, str], n: int,
                     warmup: int = 10, headers: dict | None = None) -> tuple[list[float], list[float]]:
    """Alternate GETs to two servers (port, path) so both see the same machine load.

    The machine may be shared; measuring one after the other would compare a quiet
    moment with a busy one.
    """
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port, _ in (a, b)]
    times: list[list[float]] = [[], []]
    for i in range(warmup + n):
        for k, (_, path) in enumerate((a, b)):
            t0 = time.perf_counter()
            conns[k].request("GET", path, headers=headers or {})
            response = conns[k].getresponse()
            response.read()
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                raise AssertionError(f"GET {path} -> {response.status}")
            if i >= warmup:
                times[k].append(elapsed)
    for c in conns:
        c.close()
    return times[0], times[1]


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """CPU used by a process's children: those it has waited for, and those running now."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    done = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    running = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tasks = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for kid in kids:
            try:
                running += cpu_seconds(kid) + children_cpu_seconds(kid)
            except OSError:
                pass                 # ended meanwhile: counted in ``done`` next time
    return done + running


def wait_until_idle(pid: int, busy_share: float = 0.05, timeout: float = 300) -> float:
    """Seconds until the process and its children use under ``busy_share`` of a CPU for two
    seconds running: a hub or standalone instance starts with background work (the first
    notification round in a child process, then the county's assessment figures in the serve
    process) that a page measurement would otherwise take for the pages' own cost."""
    started = time.monotonic()
    quiet = 0
    last = cpu_seconds(pid) + children_cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(1)
        now = cpu_seconds(pid) + children_cpu_seconds(pid)
        quiet = quiet + 1 if now - last < busy_share else 0
        last = now
        if quiet >= 2:
            break
    return time.monotonic() - started


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (psutil where installed, else /proc)."""
    try:
        import psutil
        return psutil.Process(pid).memory_info().rss
    except ImportError:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    raise RuntimeError("no RSS")
