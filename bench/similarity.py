"""The similarity report of 1,000 submissions of the four-function CNN homework
(:func:`grader.code_similarity.similarity_report`, ``harness/cnn_class.py``'s synthetic class with
10 planted copies and 2 copies of copies): its CPU seconds and the process's peak resident memory
(``getrusage``'s ``ru_maxrss``: this process is started by ``make``, so the peak is its own), a late
submission added and compared through the index, and where the planted pairs rank.

Targets (issue 67): the report in at most 30 s of CPU and 500 MB; a late submission in at most 1 s;
every planted pair in the top 1 % of pairs and no honest pair above the lowest planted one. The
anchors on a like class, measured on this machine: Dolos 34 s and 0.74 GB (its copies ranked 1,830th
to 163,341st), copydetect 401 s and 3.2 GB.

Run: ``make bench`` (or ``python -m bench.similarity --students N``).
"""

from __future__ import annotations

import argparse
import resource
import time

from grader.code_similarity import Similarity, Submission
from harness.cnn_class import make_class
from problems.loader import load_bank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1_000)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    problem_set = load_bank()["numpy-convolution"]
    solutions = list(dict.fromkeys(problem_set.solution_of(key) for key in problem_set.code()))
    planted = make_class(args.students, copies=args.copies, chains=2, seed=1)
    first = next(iter(planted.texts))
    late_text = "# late\n" + planted.texts[first].replace(" * ", "*")  # the first student's, respaced
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    cpu, wall = time.process_time(), time.perf_counter()
    similarity = Similarity()
    similarity.ignore(solutions)
    for student, text in planted.texts.items():
        similarity.add(Submission(student, {"code": text}))
    report = similarity.report()  # the 100 best pairs with their evidence, as the report lists them
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    late_cpu, late_wall = time.process_time(), time.perf_counter()
    found = similarity.late(Submission("late", {"code": late_text}))
    late_cpu, late_wall = time.process_time() - late_cpu, time.perf_counter() - late_wall

    # where every planted pair ranks among all the pairs (scores only: untimed)
    pairs = planted.planted_pairs()
    top = report.pairs_compared / 100
    index = similarity.index
    ranking = [(frozenset((index.names[p.first], index.names[p.second])), p.score) for p in index.pairs(limit=int(top))]
    ranking = [(students, score) for students, score in ranking if "late" not in students]  # the class's own
    ranks = [rank for rank, (students, _) in enumerate(ranking, 1) if students in pairs]
    lowest = min((score for students, score in ranking if students in pairs), default=0.0)
    honest = max((score for students, score in ranking if students not in pairs), default=0.0)
    listed = max(ranks, default=0)
    print(f"similarity report, {report.students} submissions ({report.pairs_compared:,} pairs)")
    print(f"  report: {cpu:.1f} s CPU ({wall:.1f} s wall), peak memory {peak / 1024:.0f} MB")
    print(f"    (the class's texts made before: {baseline / 1024:.0f} MB)")
    print(f"  late submission: {late_cpu * 1000:.0f} ms CPU ({late_wall * 1000:.0f} ms wall)")
    print(f"    its best match {found[0].score:.2f}")
    print(f"  planted pairs: {len(ranks)} of {len(pairs)} found, ranked {min(ranks, default=0)} to {listed}")
    print(
        f"    top 1 % = {top:,.0f} pairs: {listed <= top}; lowest planted score {lowest:.3f}, best honest {honest:.3f}"
    )
    print(f"  clusters: {report.clusters}")


if __name__ == "__main__":
    main()
