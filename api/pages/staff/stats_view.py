"""The statistics page's figures: each chart drawn from the numbers of the statistics service
(:func:`api.reports.service.statistics`) and the gradebook, with the same numbers as a table
beside it for those who read numbers rather than bars.

Nothing here computes a statistic: it arranges what the services computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from api.pages.kit.charts import Bar, bar_chart, bin_counts, bin_labels, histogram
from api.pages.kit.render import points
from grader.comparison.mistakes import EXPLANATIONS

#: Score ranges of the histogram when the maximum is not a small whole number.
BINS = 10
#: How a table column is set: prose, a number (right-aligned), or text as typed (keys, answers).
TEXT, NUM, CODE = "text", "num", "code"


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart and its table: ``head`` names the table's columns and how each is set (:data:`TEXT`,
    :data:`NUM` right-aligned, :data:`CODE` as typed), ``rows`` hold its cells as text."""

    id: str
    title: str
    chart: Markup
    head: tuple[tuple[str, str], ...]
    rows: list[tuple[str, ...]]
    note: str = ""
    #: The table goes beside the chart (a narrow table) or under it (a wide one).
    beside: bool = True


def bins_for(maximum: float) -> int:
    """One range per point when the maximum is a whole number of points up to 20 (so the ranges
    are ``[0, 1)``, ``[1, 2)``, ...), else :data:`BINS`.

    >>> bins_for(9), bins_for(40), bins_for(2.5), bins_for(1)
    (9, 10, 10, 10)
    """
    return int(maximum) if float(maximum).is_integer() and 2 <= maximum <= 20 else BINS


def percent(share: float | None) -> str:
    """``0.666667`` → ``67%``; no share (nothing submitted) → an en dash."""
    return "–" if share is None else f"{share:.0%}"


def score_histogram(book: dict[str, Any], *, maximum: float) -> Figure:
    """The students' counted scores (after any late penalty) from the gradebook; students without
    a submission are left out, and counted in the note."""
    scores = [row["score"] for row in book["students"] if row["score"] is not None]
    missing = len(book["students"]) - len(scores)
    title = f"Counted scores of {len(scores)} student{'s' if len(scores) != 1 else ''}, out of {points(maximum)}"
    bins = bins_for(maximum)
    counts = bin_counts(scores, maximum=maximum, bins=bins)
    labels = bin_labels(maximum=maximum, bins=bins)
    return Figure(
        id="scores",
        title=title,
        chart=histogram(scores, maximum=maximum, title=title, bins=bins),
        head=(("Score", TEXT), ("Students", NUM)),
        rows=[(label, str(count)) for label, count in zip(labels, counts, strict=True)],
        note=f"{missing} student{'s have' if missing != 1 else ' has'} not submitted." if missing else "",
    )


def share_correct(stats: dict[str, Any]) -> Figure:
    """Per key: the share of answers fully correct, beside the submissions and students that have the
    key (of a pool, those who drew its problem), how many answered and the mean score."""
    keys: dict[str, Any] = stats["keys"]
    title = "Share of answers correct, per key"
    bars = [
        Bar(key, entry["share_correct"], percent(entry["share_correct"]))
        for key, entry in keys.items()
        if entry["share_correct"] is not None
    ]
    return Figure(
        id="correct",
        title=title,
        chart=bar_chart(bars, maximum=1.0, title=title),
        head=(
            ("Key", CODE),
            ("Submissions", NUM),
            ("Students", NUM),
            ("Answered", NUM),
            ("Mean score", NUM),
            ("Correct", NUM),
        ),
        rows=[
            (
                key,
                str(entry["submissions"]),
                str(entry["students"]),
                str(entry["answered"]),
                points(entry["mean_score"]),
                percent(entry["share_correct"]),
            )
            for key, entry in keys.items()
        ],
        beside=False,
    )


def explanation(code: str) -> str:
    """What a mistake code means, in the sentence a student is shown with it."""
    return EXPLANATIONS.get(code, "")


def mistakes(stats: dict[str, Any]) -> Figure:
    """Per key and mistake code: how many answers the mistake explains, commonest first within a key."""
    found = [
        (key, code, count) for key, entry in stats["keys"].items() for code, count in entry["misconceptions"].items()
    ]
    title = "Named mistakes, per key"
    return Figure(
        id="mistakes",
        title=title,
        chart=bar_chart(
            [Bar(f"{key}: {code}", count, str(count)) for key, code, count in found],
            maximum=max((count for _, _, count in found), default=1),
            title=title,
        ),
        head=(("Key", CODE), ("Mistake", CODE), ("Answers", NUM), ("What it means", TEXT)),
        rows=[(key, code, str(count), explanation(code)) for key, code, count in found],
        beside=False,
    )


def wrong_answers(stats: dict[str, Any]) -> list[Figure]:
    """Per key with any: its commonest wrong answers (as read, or for a randomized set what they
    mean against each student's reference, with one answer of each group as an example)."""
    figures = []
    for key, entry in stats["keys"].items():
        answers: Sequence[dict[str, Any]] = entry["commonest_wrong_answers"]
        if not answers:
            continue
        title = f"Commonest wrong answers to {key}"
        grouped = any(answer["example"] != answer["answer"] for answer in answers)  # by meaning: show one
        figures.append(
            Figure(
                id=f"wrong-{key}",
                title=title,
                chart=bar_chart(
                    [Bar(answer["answer"], answer["count"], str(answer["count"])) for answer in answers],
                    maximum=max(answer["count"] for answer in answers),
                    title=title,
                ),
                head=(("Answer", CODE), ("Answers", NUM), ("Example", CODE))[: 3 if grouped else 2],
                rows=[(a["answer"], str(a["count"]), a["example"])[: 3 if grouped else 2] for a in answers],
            )
        )
    return figures


def rubric_items(stats: dict[str, Any]) -> list[Figure]:
    """Per written part graded by hand: how many gradings applied each rubric item."""
    figures = []
    for key, entry in stats["keys"].items():
        applied: dict[str, int] = entry.get("rubric_items") or {}
        if not applied:
            continue
        title = f"Rubric items applied to {key}"
        figures.append(
            Figure(
                id=f"rubric-{key}",
                title=title,
                chart=bar_chart(
                    [Bar(text, count, str(count)) for text, count in applied.items()],
                    maximum=max(applied.values()),
                    title=title,
                ),
                head=(("Item", TEXT), ("Gradings", NUM)),
                rows=[(text, str(count)) for text, count in applied.items()],
            )
        )
    return figures
