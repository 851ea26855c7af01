"""Small server-side SVG charts for the staff dashboard.

Plain SVG with presentation attributes (fill=, stroke=) and classes styled in
a CSS file, so they pass a ``default-src 'self'`` Content Security Policy, work
offline and print.  Every chart on a page sits next to a table with its
numbers; the SVG carries a <title> for screen readers.
"""
from __future__ import annotations

import math

from markupsafe import Markup, escape

BLUE, GREEN, AMBER, RED, GREY, PURPLE = "#0b57a4", "#2e7d32", "#e0a100", "#c62828", "#78909c", "#6a1b9a"
WIDTH = 640


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _value_text(v, percent: bool) -> str:
    if v is None:
        return "—"
    return f"{v * 100:.1f}%" if percent else str(v)


def _svg(title: str, height: float, body: list[str], width: int = WIDTH) -> Markup:
    head = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_num(height)}" '
            f'role="img" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def clip(label: str, n: int = 11) -> str:
    """The label cut to n characters (with an ellipsis)."""
    label = str(label)
    return label if len(label) <= n else label[: n - 1] + "…"


def clip_middle(label: str, n: int = 11) -> str:
    """The label cut in the middle, for names that differ at their end (…1号机, …2号机)."""
    label = str(label)
    if len(label) <= n:
        return label
    head = (n - 1) // 2
    return label[:head] + "…" + label[len(label) - (n - 1 - head):]


def _nice(v: float) -> float:
    """The smallest 1, 2, 4, 6, 8 × 10^k at or above v, so the quarter ticks are round numbers."""
    if v <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(v))
    return next(m * k for m in (1, 2, 4, 6, 8, 10) if m * k >= v)


def bars(title: str, items: list[tuple[str, float | int | None]], percent: bool = False,
         color: str = BLUE, max_value: float | None = None) -> Markup:
    """Horizontal bars, one per label; shares (0–1) when percent."""
    if not any(v for _, v in items):
        return Markup("")
    row, label_w, right = 30, 180, 70
    top = 6
    scale_max = max_value if max_value is not None else (1.0 if percent else max([v or 0 for _, v in items] + [1]))
    span = WIDTH - label_w - right
    body = []
    for i, (label, v) in enumerate(items):
        y = top + i * row
        w = 0 if not v else span * min(v / scale_max, 1)
        body.append(f'<text class="chart-label" x="{label_w - 8}" y="{_num(y + 19)}" text-anchor="end">'
                    f'{escape(clip(label))}</text>')
        body.append(f'<rect x="{label_w}" y="{_num(y + 5)}" width="{_num(span)}" height="18" fill="#eef2f6"/>')
        if w:
            body.append(f'<rect x="{label_w}" y="{_num(y + 5)}" width="{_num(w)}" height="18" fill="{color}"/>')
        body.append(f'<text class="chart-value" x="{_num(label_w + span + 6)}" y="{_num(y + 19)}">'
                    f'{escape(_value_text(v, percent))}</text>')
    return _svg(title, top * 2 + row * max(len(items), 1), body)


def stacked(title: str, items: list[tuple[str, list[int]]], series: list[tuple[str, str]]) -> Markup:
    """Horizontal bars split by series (name, colour), each bar as long as its total share of the largest."""
    if not any(sum(v) for _, v in items):
        return Markup("")
    row, label_w, right, legend_h = 30, 180, 60, 30
    span = WIDTH - label_w - right
    biggest = max([sum(v) for _, v in items] + [1])
    body = []
    x, y = label_w, 6
    for name, colour in series:       # legend first so it reads before the bars; wraps when long
        w = 28 + 15 * len(name)
        if x + w > WIDTH and x > label_w:
            x, y = label_w, y + 22
        body.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}"/>')
        body.append(f'<text class="chart-legend" x="{x + 19}" y="{y + 12}">{escape(name)}</text>')
        x += w
    legend_h += y - 6
    for i, (label, values) in enumerate(items):
        y = legend_h + i * row
        body.append(f'<text class="chart-label" x="{label_w - 8}" y="{_num(y + 19)}" text-anchor="end">'
                    f'{escape(clip(label))}</text>')
        x = float(label_w)
        for (name, colour), v in zip(series, values):
            if v:
                w = span * v / biggest
                body.append(f'<rect x="{_num(x)}" y="{_num(y + 5)}" width="{_num(w)}" height="18" fill="{colour}">'
                            f'<title>{escape(label)} {escape(name)}：{v}</title></rect>')
                x += w
        body.append(f'<text class="chart-value" x="{_num(x + 6)}" y="{_num(y + 19)}">{sum(values)}</text>')
    return _svg(title, legend_h + row * max(len(items), 1) + 6, body)


def line(title: str, labels: list[str], series: list[tuple[str, list[float | None], str]],
         percent: bool = True) -> Markup:
    """Monthly trend lines; gaps (None) break a line.  Shares when percent."""
    if not any(v is not None for _, vs, _ in series for v in vs):
        return Markup("")
    # The legend wraps onto more rows when the series' names do not fit on one.
    legend, x, y = [], 56, 8
    for name, _, colour in series:
        w = 40 + 15 * len(name)
        if x + w > WIDTH and legend:
            x, y = 56, y + 22
        legend.append((name, colour, x, y))
        x += w
    left, right, top, bottom = 56, 16, y + 26, 34
    height = 240 + y - 8
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [v for _, vs, _ in series for v in vs if v is not None]
    vmax = 1.0 if percent else _nice(max(values + [1]))
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)

    def xy(i, v):
        return left + (i * step if n > 1 else plot_w / 2), top + plot_h * (1 - v / vmax)

    body = []
    for k in range(5):                                   # grid and axis labels
        v = vmax * k / 4
        y = top + plot_h * (1 - k / 4)
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{WIDTH - right}" y2="{_num(y)}" stroke="#dde3ea"/>')
        text = f"{v * 100:.0f}%" if percent else _num(v)
        body.append(f'<text class="chart-axis" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{text}</text>')
    every = max(1, (n + 11) // 12)
    for i, lab in enumerate(labels):
        if i % every == 0 or i == n - 1:
            x, _ = xy(i, 0)
            body.append(f'<text class="chart-axis" x="{_num(x)}" y="{height - 12}" text-anchor="middle">'
                        f'{escape(lab[2:] if len(lab) == 7 else lab)}</text>')
    for name, colour, x, y in legend:
        body.append(f'<rect x="{x}" y="{y}" width="14" height="4" fill="{colour}"/>')
        body.append(f'<text class="chart-legend" x="{x + 19}" y="{y + 8}">{escape(name)}</text>')
    for name, vs, colour in series:
        segment: list[str] = []
        for i, v in enumerate(vs + [None]):
            if v is None:
                if len(segment) > 1:
                    body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" '
                                f'stroke-width="2.5"/>')
                segment = []
                continue
            px, py = xy(i, v)
            segment.append(f"{_num(px)},{_num(py)}")
            body.append(f'<circle cx="{_num(px)}" cy="{_num(py)}" r="3.5" fill="{colour}">'
                        f'<title>{escape(labels[i])} {escape(name)}：{escape(_value_text(v, percent))}</title>'
                        f'</circle>')
    return _svg(title, height, body)


def columns(title: str, labels: list[str], values: list[int], color: str = BLUE) -> Markup:
    """Vertical bars, e.g. views per month."""
    if not any(values):
        return Markup("")
    left, right, top, bottom = 56, 16, 16, 34
    height = 220
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    vmax = _nice(max(values + [1]))
    n = max(len(labels), 1)
    slot = plot_w / n
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}" stroke="#9aa7b5"/>']
    for k in range(1, 5):
        y = top + plot_h * (1 - k / 4)
        body.append(f'<line x1="{left}" y1="{_num(y)}" x2="{WIDTH - right}" y2="{_num(y)}" stroke="#eef2f6"/>')
        tick = vmax * k / 4
        body.append(f'<text class="chart-axis" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">'
                    f'{round(tick) if vmax >= 8 else _num(tick)}</text>')
    every = max(1, (n + 11) // 12)
    for i, (lab, v) in enumerate(zip(labels, values)):
        h = plot_h * v / vmax
        x = left + i * slot + slot * 0.15
        if v:
            body.append(f'<rect x="{_num(x)}" y="{_num(top + plot_h - h)}" width="{_num(slot * 0.7)}" '
                        f'height="{_num(h)}" fill="{color}"><title>{escape(lab)}：{v}</title></rect>')
        if i % every == 0 or i == n - 1:
            body.append(f'<text class="chart-axis" x="{_num(left + (i + 0.5) * slot)}" y="{height - 12}" '
                        f'text-anchor="middle">{escape(lab[2:] if len(lab) == 7 else lab)}</text>')
    return _svg(title, height, body)
