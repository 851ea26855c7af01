"""Benchmark fixtures: a county-scale instance, real servers in subprocesses, timing helpers.

Run with `make bench` (not part of `make test`). KIOSK_BENCH_SCALE shrinks the county
(1.0 = 30 townships, 400 villages, 20k items, 100k notices, 2k guides).
"""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.generate import generate
from tests.browser.conftest import LiveServer, free_port

HERE = Path(__file__).parent
# What a noticeboard polls. Boards (/display/<board>) come with the display package;
# add their URLs here as they land.
BOARD_URLS = ["/healthz", "/notices"]
SCALE = float(os.environ.get("KIOSK_BENCH_SCALE", "1.0"))


@pytest.fixture(scope="session")
def county(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "county"
    counts = generate(path, scale=SCALE)
    print(f"\ncounty dataset (scale {SCALE}): {counts}")
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
                     warmup: int = 10) -> tuple[list[float], list[float]]:
    """Alternate GETs to two servers (port, path) so both see the same machine load.

    The machine may be shared; measuring one after the other would compare a quiet
    moment with a busy one.
    """
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port, _ in (a, b)]
    times: list[list[float]] = [[], []]
    for i in range(warmup + n):
        for k, (_, path) in enumerate((a, b)):
            t0 = time.perf_counter()
            conns[k].request("GET", path)
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
