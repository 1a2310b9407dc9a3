"""Suggested groups of similar free-response answers (:mod:`grader.grouping`) on a fixed corpus, and
of long answers in bounded memory."""

from __future__ import annotations

import random

import pytest

from grader import grouping
from grader.grouping import Group, group_answers, normalised
from harness.free_response import IDEAS, SAME, long_answers
from harness.grouping_memory import peak_added


def keyed() -> dict[str, str]:
    answers = {f"{idea}-{n}": text for idea, texts in IDEAS.items() for n, text in enumerate(texts)}
    answers |= {f"same-{n}": text for n, text in enumerate(SAME)}
    return answers


def idea_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def test_paraphrases_of_one_idea_are_grouped_and_ideas_are_not_mixed() -> None:
    groups = group_answers(keyed())
    for idea in IDEAS:
        (holding,) = [g for g in groups if any(idea_of(k) == idea for k in g.members)]
        assert {idea_of(k) for k in holding.members} <= {idea, "same"} and holding.how == "similar"
        assert {k for k in holding.members if idea_of(k) == idea} == {f"{idea}-{n}" for n in range(len(IDEAS[idea]))}
    (same,) = [g for g in groups if g.how == "same"]
    assert same.members == ("same-0", "same-1", "same-2") and same.example == "it reduces the number of channels"


def test_the_groups_do_not_depend_on_the_order_of_the_answers() -> None:
    answers = list(keyed().items())
    first = group_answers(dict(answers))
    random.Random(7).shuffle(answers)
    assert group_answers(dict(answers)) == first


def test_a_typo_of_a_common_answer_joins_it_and_an_opposite_one_does_not() -> None:
    answers = {
        "a": "It reduces the number of channels.",
        "b": "it reduces the number of channels",
        "c": "It reduces the numbr of channels.",
        "d": "It increases the number of channels.",
        "e": "The kernel is flipped before sliding it.",
    }
    groups = {g.members: g.how for g in group_answers(answers)}
    assert groups[("a", "b", "c")] == "near"
    assert groups[("d",)] == groups[("e",)] == "alone"


def test_blank_answers_are_left_out_and_one_answer_is_alone() -> None:
    assert group_answers({"a": "  ", "b": ""}) == []
    assert group_answers({"a": " Fewer channels. "}) == [Group(("a",), "alone", "fewer channels")]
    assert normalised("ＦＥＷＥＲ  channels") == "fewer channels"  # compatibility forms folded


#: The resident memory grouping 1,000 distinct answers of 3,000 characters may add (measured: about
#: 130 MiB; before the vectors stayed sparse, 4.9 GiB).
LONG_ANSWERS_BOUND = 200 * 2**20


def test_a_thousand_long_distinct_answers_are_grouped_in_bounded_memory() -> None:
    added = peak_added(long_answers(1000))
    assert added < LONG_ANSWERS_BOUND, f"grouping added {added / 2**20:.0f} MiB"


def test_long_answers_give_the_same_groups_in_any_order() -> None:
    answers = list(long_answers(120, 1500).items())
    first = group_answers(dict(answers))
    assert any(group.how == "similar" for group in first)  # the shared sentences make some
    random.Random(8).shuffle(answers)
    assert group_answers(dict(answers)) == first


@pytest.mark.parametrize("at_once", [2, 3, 7])
def test_past_the_clustering_bound_the_ideas_still_group_alike(at_once: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clustered a few at a time, the others joining the cluster they are closest to on average:
    the corpus's ideas come out as when all are clustered at once, whatever the order."""
    whole = group_answers(keyed())
    monkeypatch.setattr(grouping, "MAX_CLUSTERED", at_once)
    answers = list(keyed().items())
    assert group_answers(dict(answers)) == whole
    random.Random(at_once).shuffle(answers)
    assert group_answers(dict(answers)) == whole
