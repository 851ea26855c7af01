"""The consolidated benchmark table: every bench test adds its rows with ``record()``; the
session prints them at its end (tests/bench/conftest.py, pytest_terminal_summary)."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass


@dataclass
class Result:
    area: str                   # "pages", "search", "sync", "memory", "soak", …
    measure: str                # what was measured, e.g. "home p95"
    value: float
    unit: str
    baseline: float
    baseline_name: str          # what the baseline is, e.g. "static file p95"
    goal: str                   # e.g. "ratio ≤ 2", "≤ 30 ms"
    ok: bool | None             # None: no goal
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


RESULTS: list[Result] = []


def record(area: str, measure: str, value: float, unit: str, baseline: float, baseline_name: str, *,
           max_ratio: float | None = None, min_ratio: float | None = None,
           max_value: float | None = None, note: str = "") -> Result:
    """Add one row to the table `make bench` prints when the session ends; returns it.

    value and baseline are in the same unit, measured in the same run (interleaved where
    they are times). Goals, all optional: max_ratio / min_ratio bound value ÷ baseline,
    max_value bounds the value itself. Example (sync):
    ``record("sync", "full apply", 6.1, "s", 2.3, "raw bulk insert", max_value=10)``.
    """
    goals, ok = [], True
    ratio = value / baseline if baseline else float("inf")
    if min_ratio is not None and max_ratio is not None:
        goals.append(f"ratio {min_ratio:g}–{max_ratio:g}")
        ok = ok and min_ratio <= ratio <= max_ratio
    elif max_ratio is not None:
        goals.append(f"ratio ≤ {max_ratio:g}")
        ok = ok and ratio <= max_ratio
    elif min_ratio is not None:
        goals.append(f"ratio ≥ {min_ratio:g}")
        ok = ok and ratio >= min_ratio
    if max_value is not None:
        goals.append(f"≤ {max_value:g} {unit}")
        ok = ok and value <= max_value
    result = Result(area, measure, value, unit, baseline, baseline_name, ", ".join(goals),
                    ok if goals else None, note)
    RESULTS.append(result)
    return result


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 1 else f"{x:.1f}"


def results_table(results: list[Result]) -> list[str]:
    """Markdown rows; each line holds the word "ratio"."""
    lines = ["| area | measure | value | baseline | ratio | goal | |",
             "| --- | --- | ---: | --- | ---: | --- | --- |"]
    for r in results:
        verdict = {True: "ok", False: "MISSED", None: ""}[r.ok]
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.area} | {r.measure}{note} | {_num(r.value)} {r.unit} | {r.baseline_name} "
                     f"{_num(r.baseline)} {r.unit} | ratio {r.ratio:.2f} | {r.goal or '–'} | {verdict} |")
    return lines


def machine_line() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    import sqlite3
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


