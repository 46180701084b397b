"""Small SVG charts rendered on the server: no JavaScript, no CDN, readable by screen readers.

Each chart is an <svg role="img"> labelled by its <title> and <desc>; every bar carries its own
<title> and a visible text label with its value, so nothing is conveyed by colour alone. The page
shows the same figures in a table beside the chart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from markupsafe import Markup, escape

#: bar colours with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects)
PALETTE = ("#8b1a1a", "#0b4fa8", "#1a6b35", "#8a5300", "#5b3c8c", "#4a5563", "#006d75")
BAR_WIDTH, STACKED_WIDTH = 720, 480  # natural sizes in px; CSS only ever scales them down


def _chart_id(title: str) -> str:
    return "chart-" + hashlib.sha256(title.encode()).hexdigest()[:8]


def _open(title: str, description: str, width: int, height: int) -> list[str]:
    cid = _chart_id(title)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}"'
            f' width="{width}" height="{height}" aria-labelledby="{cid}-t {cid}-d">',
            f'<title id="{cid}-t">{escape(title)}</title>',
            f'<desc id="{cid}-d">{escape(description or title)}</desc>']


def _scale(values: Sequence[int]) -> int:
    return max([*values, 1])


def bar_chart(data: Sequence[tuple[str, int]], *, title: str, description: str = "", unit: str = "") -> Markup:
    """Return vertical bars, one per (label, value), the value above and the label below each."""
    width, height, top, bottom, left = BAR_WIDTH, 220, 24, 40, 8
    plot = height - top - bottom
    slot = (width - 2 * left) / max(len(data), 1)
    peak = _scale([v for _, v in data])
    parts = _open(title, description, width, height)
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}" stroke="#4a5563"/>')
    for i, (label, value) in enumerate(data):
        bar_h = round(plot * value / peak, 1)
        x = round(left + i * slot + slot * 0.15, 1)
        cx = round(left + i * slot + slot / 2, 1)
        parts.append(f'<g><title>{escape(label)}：{value}{escape(unit)}</title>'
                     f'<rect x="{x}" y="{round(top + plot - bar_h, 1)}" width="{round(slot * 0.7, 1)}"'
                     f' height="{bar_h}" fill="{PALETTE[0]}"/>'
                     f'<text x="{cx}" y="{round(top + plot - bar_h - 6, 1)}" text-anchor="middle"'
                     f' font-size="12">{value}</text>'
                     f'<text x="{cx}" y="{top + plot + 18}" text-anchor="middle" font-size="11">'
                     f'{escape(label)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *,
                      title: str, description: str = "") -> Markup:
    """Return horizontal stacked bars: one row per category, one coloured segment per series."""
    width, row, right = STACKED_WIDTH, 26, 40
    label_w = min(12 + 12 * max((len(c) for c in categories), default=4), 180)
    legend, legend_h = _legend([name for name, _ in series], width)
    top = legend_h + 10
    height = top + row * max(len(categories), 1) + 8
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    peak = _scale(totals)
    plot = width - label_w - right
    parts = _open(title, description, width, height)
    parts += legend
    for i, category in enumerate(categories):
        y = top + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">{escape(category)}</text>')
        x = float(label_w)
        for j, (name, values) in enumerate(series):
            if not values[i]:
                continue
            w = round(plot * values[i] / peak, 1)
            parts.append(f'<rect x="{round(x, 1)}" y="{y + 3}" width="{w}" height="{row - 8}"'
                         f' fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(category)} · {escape(name)}：'
                         f'{values[i]}</title></rect>')
            x += w
        parts.append(f'<text x="{round(x + 6, 1)}" y="{y + 16}" font-size="12">{totals[i]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(names: Sequence[str], width: int) -> tuple[list[str], int]:
    """Return the legend's swatches, wrapped onto as many lines as needed, and its height."""
    parts, x, y = [], 8, 6
    for j, name in enumerate(names):
        size = 16 + 13 * len(name) + 16
        if x > 8 and x + size > width:
            x, y = 8, y + 20
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{y + 11}" font-size="12">{escape(name)}</text>')
        x += size
    return parts, y + 18
