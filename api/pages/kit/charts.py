"""Charts drawn on the server as inline SVG: the statistics page needs no script to show them,
they print, and a screen reader gets each chart's title and a sentence per bar.

Every label goes through :func:`markupsafe.escape`: commonest wrong answers are student text.
Sizes are in SVG user units; the stylesheet scales the drawing to the page's width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Layout of the horizontal bar chart, in user units.
LABEL_WIDTH = 260
BAR_WIDTH = 300
VALUE_WIDTH = 60
ROW_HEIGHT = 24
BAR_HEIGHT = 16
#: Layout of the histogram.
PLOT_WIDTH = 480
PLOT_HEIGHT = 160
AXIS_MARGIN = 28
#: A label longer than this is cut with an ellipsis (its whole text stays in the bar's <title>).
LABEL_CHARS = 40


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: ``value`` sets the length, ``text`` is what the row says of it."""

    label: str
    value: float
    text: str


def bin_counts(scores: Sequence[float], *, maximum: float, bins: int) -> list[int]:
    """How many scores fall in each of ``bins`` equal ranges of ``[0, maximum]``; the last range is closed,
    so full marks count in it; scores outside ``[0, maximum]`` count in the nearest range.

    >>> bin_counts([0, 0.5, 1, 9.99, 10], maximum=10, bins=10)
    [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    """
    counts = [0] * bins
    if maximum <= 0:
        counts[-1] = len(scores)
        return counts
    for score in scores:
        index = math.floor(min(max(score, 0.0), maximum) / maximum * bins)
        counts[min(index, bins - 1)] += 1
    return counts


def _number(value: float) -> str:
    """A bin edge as a person writes it: ``2``, ``2.5``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bin_labels(*, maximum: float, bins: int) -> list[str]:
    """The ranges of :func:`bin_counts` as written under a histogram and in the table beside it.

    >>> bin_labels(maximum=10, bins=2)
    ['[0, 5)', '[5, 10]']
    """
    step = maximum / bins if maximum > 0 else 0.0
    return [
        f"[{_number(step * index)}, {_number(step * (index + 1))}{']' if index == bins - 1 else ')'}"
        for index in range(bins)
    ]


def histogram(scores: Sequence[float], *, maximum: float, title: str, bins: int = 10) -> Markup:
    """A column per score range, its height the number of students in it, with the ranges under
    the columns and the counts above them."""
    counts = bin_counts(scores, maximum=maximum, bins=bins)
    tallest = max(counts, default=0) or 1
    width = PLOT_WIDTH / bins
    step = maximum / bins if maximum > 0 else 0.0
    columns = []
    for index, (count, label) in enumerate(zip(counts, bin_labels(maximum=maximum, bins=bins), strict=True)):
        low = step * index
        height = PLOT_HEIGHT * count / tallest
        x = AXIS_MARGIN + index * width
        y = AXIS_MARGIN + PLOT_HEIGHT - height
        sentence = f"{count} with a score in {label}"
        columns.append(
            f"<g><title>{escape(sentence)}</title>"
            f'<rect class="bar" x="{x + 2:.1f}" y="{y:.1f}" width="{width - 4:.1f}" height="{height:.1f}"/>'
            f'<text class="count" x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
            f'<text class="axis" x="{x + width / 2:.1f}" y="{AXIS_MARGIN + PLOT_HEIGHT + 16}" '
            f'text-anchor="middle">{escape(_number(low))}</text></g>'
        )
    total_width = AXIS_MARGIN * 2 + PLOT_WIDTH
    total_height = AXIS_MARGIN * 2 + PLOT_HEIGHT
    baseline = AXIS_MARGIN + PLOT_HEIGHT
    end = f'<text class="axis" x="{AXIS_MARGIN + PLOT_WIDTH}" y="{baseline + 16}" text-anchor="middle">'
    return Markup(
        f'<svg class="chart histogram" viewBox="0 0 {total_width} {total_height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line class="baseline" x1="{AXIS_MARGIN}" y1="{baseline}" x2="{AXIS_MARGIN + PLOT_WIDTH}" y2="{baseline}"/>'
        f"{''.join(columns)}{end}{escape(_number(maximum))}</text></svg>"
    )


def bar_chart(bars: Sequence[Bar], *, maximum: float, title: str) -> Markup:
    """A horizontal bar per row, longest at ``maximum``, its label on the left and its text on the
    right; an empty chart says so rather than drawing nothing."""
    if not bars:
        return Markup('<p class="chart-empty">{}</p>').format(f"{title}: nothing to show yet.")
    rows = []
    for index, bar in enumerate(bars):
        y = index * ROW_HEIGHT
        length = BAR_WIDTH * min(max(bar.value, 0.0), maximum) / maximum if maximum > 0 else 0.0
        rows.append(
            f"<g><title>{escape(bar.label)}: {escape(bar.text)}</title>"
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 3}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 2}" width="{length:.1f}" height="{BAR_HEIGHT}"/>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR_HEIGHT - 3}">{escape(bar.text)}</text>'
            "</g>"
        )
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = ROW_HEIGHT * len(bars) + 4
    return Markup(
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(rows)}</svg>'
    )
