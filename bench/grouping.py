"""Suggesting groups of 1,000 free-response answers (:func:`grader.grouping.group_answers`): the
median time of a few runs, the resident memory the grouping adds at its peak (in a fresh
interpreter: :mod:`harness.grouping_memory`), and the groups found.

The answers, in four rows:

- **as typed**: the corpus's (``harness/free_response.py``: four ideas in several wordings each)
  typed as students type them: each drawn, then perhaps given a typo, a dropped word, other case
  or spacing, so that some are the same once normalised, some near-duplicates and the rest
  paraphrases;
- **all different**: words of the corpus at random, no two alike: every answer goes to the last
  pass, the clustering;
- **long**: 3,000 characters each, no two alike, sentences of a large vocabulary with shared ones
  among them (``long_answers``): the heaviest prose a class can send;
- **random**: 10,000 letters and spaces at random each (``random_answers``): as many n-grams as an
  answer can have (the grouping reads 10,000 characters of one), the most each answer can cost.

Run: ``make bench`` (or ``python -m bench.grouping --answers N``).
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import time

from grader.grouping import group_answers
from harness.free_response import IDEAS, long_answers, random_answers
from harness.grouping_memory import peak_added

ROUNDS = 3


def typed(text: str, rng: random.Random) -> str:
    """``text`` as one more student might type it."""
    words = text.split()
    roll = rng.random()
    if roll < 0.25 and len(words) > 4:  # a word dropped
        del words[rng.randrange(len(words))]
    elif roll < 0.5:  # a typo: two letters swapped
        index = rng.randrange(len(words))
        word = words[index]
        if len(word) > 3:
            at = rng.randrange(len(word) - 1)
            words[index] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    text = " ".join(words)
    return text.lower() if rng.random() < 0.3 else text


def answers(count: int, seed: int = 5) -> dict[str, str]:
    rng = random.Random(seed)
    pool = [text for texts in IDEAS.values() for text in texts]
    return {f"s{n:05d}": typed(rng.choice(pool), rng) for n in range(count)}


def all_different(count: int, seed: int = 6) -> dict[str, str]:
    """``count`` answers no two alike (words of the corpus at random): the clustering's worst case,
    every answer goes to the last pass."""
    rng = random.Random(seed)
    words = " ".join(text for texts in IDEAS.values() for text in texts).split()
    return {f"s{n:05d}": " ".join(rng.choice(words) for _ in range(rng.randint(6, 25))) for n in range(count)}


def measure(name: str, given: dict[str, str]) -> str:
    times: list[float] = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        groups = group_answers(given)
        times.append(time.perf_counter() - started)
    how = collections.Counter(group.how for group in groups)
    distinct = len(set(given.values()))
    return (
        f"| {name} | {len(given):,} | {distinct:,} | {statistics.median(times) * 1000:,.0f} "
        f"| {peak_added(given) / 2**20:,.0f} | {len(groups):,} "
        f"| {how['same']:,} | {how['near']:,} | {how['similar']:,} | {how['alone']:,} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=1000)
    options = parser.parse_args()
    group_answers({"a": "warm", "b": "up"})  # (scikit-learn imported outside the timing)
    print(f"\ngrouping free-response answers (median of {ROUNDS}; peak: resident memory added, MiB)")
    print("| answers | count | distinct | ms | peak MiB | groups | same | near | similar | alone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(measure("as typed", answers(options.answers)))
    print(measure("all different", all_different(options.answers)))
    print(measure("long, 3,000 characters", long_answers(options.answers)))
    print(measure("random, 10,000 characters", random_answers(options.answers)))


if __name__ == "__main__":
    main()
