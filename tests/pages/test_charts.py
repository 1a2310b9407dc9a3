"""The statistics page's charts: well-formed SVG whose bars measure the data, with student text
escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.pages.kit.charts import BAR_WIDTH, PLOT_HEIGHT, Bar, bar_chart, bin_counts, histogram

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f".//{SVG}rect")


@given(
    st.lists(st.floats(min_value=-5, max_value=25, allow_nan=False), max_size=60),
    st.floats(min_value=0.5, max_value=20),
    st.integers(min_value=1, max_value=12),
)
def test_every_score_lands_in_exactly_one_bin(scores: list[float], maximum: float, bins: int) -> None:
    counts = bin_counts(scores, maximum=maximum, bins=bins)
    assert len(counts) == bins
    assert sum(counts) == len(scores)
    # full marks (and anything clipped above them) are in the last bin, zero in the first
    assert counts[-1] >= sum(1 for s in scores if s >= maximum)
    assert counts[0] >= sum(1 for s in scores if s <= 0)


def test_histogram_columns_are_proportional_to_their_counts() -> None:
    svg = histogram([0, 1, 1, 9, 10, 10, 10, 10], maximum=10, bins=5, title="Scores")
    heights = [float(rect.get("height", "")) for rect in _bars(svg)]
    assert heights == pytest.approx([PLOT_HEIGHT * c / 5 for c in (3, 0, 0, 0, 5)])
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.findtext(f"{SVG}title") == "Scores"
    sentences = [g.findtext(f"{SVG}title") for g in root.findall(f"{SVG}g")]
    assert sentences[0] == "3 with a score in [0, 2)" and sentences[-1] == "5 with a score in [8, 10]"


def test_bar_lengths_measure_values_against_the_maximum() -> None:
    svg = bar_chart(
        [Bar("q1.a", 1.0, "100%"), Bar("q1.b", 0.25, "25%"), Bar("q2", 0.0, "0%")], maximum=1.0, title="Share correct"
    )
    assert [float(rect.get("width", "")) for rect in _bars(svg)] == pytest.approx([BAR_WIDTH, BAR_WIDTH / 4, 0])


def test_student_text_is_escaped_and_long_labels_are_cut() -> None:
    answer = '<script>alert("x")</script> & ' + "9" * 40
    svg = bar_chart([Bar(answer, 3, "3")], maximum=3, title="Wrong <answers>")
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.findtext(f"{SVG}g/{SVG}title") == f"{answer}: 3"
    assert root.findtext(f"{SVG}title") == "Wrong <answers>"
    assert root.findtext(f".//{SVG}text").endswith("…")


def test_an_empty_chart_says_so() -> None:
    assert bar_chart([], maximum=1, title="Mistakes") == '<p class="chart-empty">Mistakes: nothing to show yet.</p>'
    assert bin_counts([], maximum=0, bins=3) == [0, 0, 0]
