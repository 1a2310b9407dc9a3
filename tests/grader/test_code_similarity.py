"""The similarity report of code (:mod:`grader.code_similarity`): fingerprints that a copier's free
changes leave as they were, rarity weighting, the starter set aside, one late submission through the
index, and the planted copies of a synthetic class of 200 (``harness/cnn_class.py``) on top."""

from __future__ import annotations

import ast
import builtins
import io
import json
import keyword
import re
import tokenize

import pytest

from grader.code_similarity import Similarity, Submission, similarity_report, tokens
from grader.code_similarity.evidence import same_mistakes
from grader.code_similarity.index import Index, weight
from grader.code_similarity.tokens import MAX_CHARS, code_of, lex
from grader.code_similarity.winnow import fingerprint, kgram_hashes
from harness.cnn_class import make_class
from problems.loader import load_bank

SET = load_bank()["numpy-convolution"]
SOLUTIONS = list(dict.fromkeys(SET.solution_of(key) for key in SET.code()))
#: conv_forward and conv_backward, then max_pool_forward and max_pool_backward: the set's solutions.
HOMEWORK = "\n\n".join(SOLUTIONS)


def hashes(text: str) -> set[int]:
    return set(fingerprint(lex(text)).hashes.tolist())


def renamed(text: str) -> str:
    """Every variable, parameter, function and alias renamed consistently, as a copier does it with
    an editor's rename: not keywords, builtins, attributes (``np.pad``) nor keyword arguments."""
    out: list[tuple[int, str]] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    mapping: dict[str, str] = {}
    depth = 0
    for at, token in enumerate(tokens):
        depth += token.string in "([{" and token.type == tokenize.OP
        depth -= token.string in ")]}" and token.type == tokenize.OP
        after = next((t.string for t in tokens[at + 1 :] if t.type not in (tokenize.NL, tokenize.COMMENT)), "")
        before = tokens[at - 1].string if at else ""
        keep = (
            token.type != tokenize.NAME
            or keyword.iskeyword(token.string)
            or hasattr(builtins, token.string)
            or before == "."
            or (depth > 0 and after == "=")
            or token.string == "numpy"
        )
        value = token.string if keep else mapping.setdefault(token.string, f"v_{len(mapping)}")
        out.append((token.type, value))
    return tokenize.untokenize(out)


def functions(text: str) -> list[str]:
    body = text.split("\n", 1)[1] if text.startswith("import") else text
    return ["def " + part.strip() for part in re.split(r"^def ", body, flags=re.M) if part.strip() and "(" in part]


# --- fingerprints: what a copier changes for free changes nothing ---------------------------------


def test_the_fingerprints_of_the_homework_are_many_and_stable() -> None:
    prints = fingerprint(lex(HOMEWORK))
    assert 40 < len(prints.hashes) < len(prints.stream)
    assert hashes(HOMEWORK) == hashes(HOMEWORK)


def test_renamed_names_leave_the_fingerprints_as_they_were() -> None:
    copy = renamed(HOMEWORK)
    assert "conv_forward" not in copy and " np" not in copy and ".pad" in copy and "axis =" in copy
    ast.parse(copy)
    assert hashes(copy) == hashes(HOMEWORK)


def test_comments_docstrings_and_whitespace_leave_the_fingerprints_as_they_were() -> None:
    noted = HOMEWORK.replace(
        "    n, c, h, wd = x.shape\n", '    """My docstring."""\n    # sizes\n    n, c, h, wd = x.shape  # the input\n'
    )
    spaced = noted.replace(" * ", "*").replace(" + ", "+").replace("\n\n\n", "\n\n\n\n")
    reindented = "\n".join(
        re.sub(r"^( +)", lambda m: " " * (len(m.group(1)) // 2), line) for line in spaced.split("\n")
    )
    ast.parse(reindented)
    assert hashes(reindented) == hashes(HOMEWORK)


def test_reordered_functions_keep_every_k_gram_inside_a_function() -> None:
    parts = functions(HOMEWORK)
    assert len(parts) == 4
    reordered = "import numpy as np\n\n\n" + "\n\n\n".join(reversed(parts))
    kept = set(kgram_hashes(fingerprint(lex(reordered)).stream).tolist())
    for part in parts:
        assert set(kgram_hashes(fingerprint(lex(part)).stream).tolist()) <= kept
    shared = hashes(reordered) & hashes(HOMEWORK)
    assert len(shared) >= 0.85 * len(hashes(HOMEWORK))


def test_the_pattern_of_uses_counts_where_the_names_do_not() -> None:
    one = "def f(d, w, g):\n    for i in range(3):\n        for j in range(3):\n            d[i, j] += w[i, j] * g[i]\n"
    other = one.replace("w[i, j] * g[i]", "w[j, i] * g[j]")
    assert hashes(one) != hashes(other)
    assert hashes(one) == hashes(re.sub(r"\bi\b", "row", re.sub(r"\bj\b", "col", one)))


def test_numbers_strings_and_the_api_are_kept_for_matching() -> None:
    base = "y = np.einsum('nchw,fchw->nf', window, w) + 2 * pad - 1\n" * 3
    for changed in (base.replace("2 *", "3 *"), base.replace("nchw,", "ncwh,"), base.replace("einsum", "tensordot")):
        assert hashes(changed) != hashes(base)


# --- the lexer: bounded, tolerant, never runs anything ---------------------------------------------


def test_code_that_does_not_parse_is_lexed_all_the_same() -> None:
    broken = "%matplotlib inline\ndef conv_forward(x, w:\n    out = np.zeros((2, 3)\n    return out ]]\n" + HOMEWORK
    with pytest.raises(SyntaxError):
        ast.parse(broken)
    assert hashes(HOMEWORK) <= hashes(broken) | hashes(HOMEWORK)
    assert len(hashes(broken) & hashes(HOMEWORK)) >= 0.9 * len(hashes(HOMEWORK))


def test_a_huge_text_is_lexed_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "MAX_CHARS", 6_000)
    tokens_of_huge = lex("x = 1\n" * 1_000_000)
    assert max(token.line for token in tokens_of_huge) == 1_000
    assert tokens.MAX_CHARS < MAX_CHARS


def test_a_notebook_is_read_by_its_code_cells() -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Homework"]},
            {"cell_type": "code", "source": SOLUTIONS[0].splitlines(keepends=True)},
            {"cell_type": "code", "source": SOLUTIONS[1]},
        ]
    }
    assert hashes(code_of(json.dumps(notebook))) == hashes(SOLUTIONS[0] + "\n\n" + SOLUTIONS[1])
    assert code_of("{not json") == "{not json"


# --- rarity weighting and the starter ------------------------------------------------------------


def test_a_fragment_half_the_class_shares_weighs_nothing() -> None:
    assert weight(500, 1000) == 0 == weight(900, 1000)
    assert weight(2, 1000) > weight(10, 1000) > weight(100, 1000) > weight(499, 1000) > 0
    # a block that ten of twenty students hold, and nothing else in common: their pairs score 0
    common = SOLUTIONS[1]
    own = [f"def helper_{n}(a):\n    return a * {n} + {n * 7} - np.sum(a[{n}:]) // {n + 2}\n" * 3 for n in range(20)]
    texts = {f"s{n:02d}": (common if n < 10 else "") + "\n\n" + own[n] for n in range(20)}
    report = similarity_report((Submission(s, {"code": t}) for s, t in texts.items()), limit=50)
    assert all(pair.score == 0 for pair in report.pairs if pair.students[0] < "s10" and pair.students[1] < "s10")


def test_the_starter_code_weighs_nothing() -> None:
    own = [
        "def extra(a):\n    return a.mean() * 3 - a.std() / 2 + np.linalg.norm(a, ord=1)\n" * 2,
        "def other(b):\n    return [c for c in b if c % 5 == 4 and c > 11]\n" * 2,
    ]
    starter = SOLUTIONS[0]
    class_ = [Submission(f"s{n}", {"code": starter + "\n\n" + own[n]}) for n in range(2)]
    class_ += [Submission(f"t{n}", {"code": f"def t{n}(q):\n    return q ** {n + 2} - {n}\n" * 4}) for n in range(8)]
    without = similarity_report(class_)
    assert without.pairs[0].students == ("s0", "s1") and without.pairs[0].score > 0.5
    with_starter = similarity_report(class_, starter=[starter])
    after = next(pair for pair in with_starter.pairs if pair.students == ("s0", "s1"))
    # what is left is the few k-grams from the starter's last line into each student's own first
    # (``def NAME(NAME):``, the names masked)
    assert after.score < 0.1 * without.pairs[0].score
    assert all(block.first[0] >= starter.count("\n") for block in after.blocks)


# --- the index: one late submission --------------------------------------------------------------


def test_a_late_submission_is_compared_through_the_index() -> None:
    planted = make_class(30, copies=2, chains=0, seed=4)
    similarity = Similarity()
    for student, text in planted.texts.items():
        if student != planted.copies[0][0]:
            similarity.add(Submission(student, {"code": text}))
    copy, source = planted.copies[0]
    before = similarity.index.size
    found = similarity.late(Submission(copy, {"code": planted.texts[copy]}))
    assert similarity.index.size == before + 1
    best = found[0]
    assert {similarity.index.names[best.first], similarity.index.names[best.second]} == {copy, source}
    assert best.score > 0.9
    # the same score as the whole class's ranking gives that pair
    whole = {(p.first, p.second): p.score for p in similarity.index.pairs(limit=20)}
    assert whole[(best.first, best.second)] == pytest.approx(best.score)


def test_references_are_compared_against_never_paired_with_each_other() -> None:
    text = SOLUTIONS[0]
    class_ = [Submission("old1", {"code": text}, reference=True), Submission("old2", {"code": text}, reference=True)]
    class_ += [Submission("now", {"code": text})]
    class_ += [Submission(f"t{n}", {"code": f"def t{n}(q):\n    return q ** {n + 2} - {n}\n" * 4}) for n in range(8)]
    report = similarity_report(class_)
    pairs = {pair.students for pair in report.pairs if pair.score > 0}
    assert pairs == {("now", "old1"), ("now", "old2")}
    assert report.students == 9


# --- the synthetic class: the planted copies on top ----------------------------------------------


@pytest.fixture(scope="module")
def synthetic() -> tuple[object, object]:
    planted = make_class(200, copies=6, chains=2, seed=2)
    for text in planted.texts.values():
        ast.parse(text)
    report = similarity_report(
        (Submission(student, {"code": text}) for student, text in planted.texts.items()), starter=SOLUTIONS, limit=200
    )
    return planted, report


def test_every_planted_pair_is_in_the_top_percent_above_every_honest_pair(synthetic: tuple) -> None:
    planted, report = synthetic
    pairs = planted.planted_pairs()
    assert len(pairs) >= 8  # six copies, two copies of copies (each a pair with two)
    top = report.pairs[: len(pairs)]
    assert {frozenset(pair.students) for pair in top} == pairs
    assert len(pairs) <= 0.01 * report.pairs_compared
    lowest_planted = min(pair.score for pair in top)
    honest = [pair.score for pair in report.pairs if frozenset(pair.students) not in pairs]
    assert max(honest) < lowest_planted


def test_a_copy_of_a_copy_is_a_cluster_and_the_evidence_is_shown(synthetic: tuple) -> None:
    planted, report = synthetic
    first = dict(planted.copies[:6])
    for copy, source in planted.copies[6:]:  # a copy of a copy, its source and the source's own
        assert any({copy, source, first[source]} <= set(cluster) for cluster in report.clusters)
    assert all(len(cluster) >= 3 for cluster in report.clusters)
    best = report.pairs[0]
    assert best.shared_tokens > 200 and best.blocks and best.blocks[0].number == 1 and best.fragments
    assert best.parts == ("code",)


def test_an_unrenamed_copy_shows_the_rare_names_and_comments_both_wrote() -> None:
    odd = SOLUTIONS[0].replace("window", "zorblax_patch").replace("    n, c", "    # my own odd remark here\n    n, c")
    class_ = [Submission("a", {"code": odd}), Submission("b", {"code": odd})]
    class_ += [Submission(f"t{n}", {"code": f"def t{n}(q):\n    return q ** {n + 2} - {n}\n" * 4}) for n in range(40)]
    pair = similarity_report(class_).pairs[0]
    assert pair.students == ("a", "b")
    assert "zorblax_patch" in pair.names and "my own odd remark here" in pair.comments


# --- the second signal: the same rare mistake ----------------------------------------------------


def test_the_same_rare_mistake_is_shown_and_a_common_one_is_not() -> None:
    mistakes = {f"s{n:02d}": ["conv.forward: kernel flipped"] for n in range(20)}
    mistakes["s01"] = ["conv.forward: kernel flipped", "pool.backward: [0.5, 1.5, 2.0]"]
    mistakes["s02"] = ["pool.backward: [0.5, 1.5, 2.0]"]
    assert same_mistakes(mistakes, 100) == {("s01", "s02"): ["pool.backward: [0.5, 1.5, 2.0]"]}
    class_ = [
        Submission(f"s{n:02d}", {"code": f"def t{n}(q):\n    return q ** {n + 2} - {n}\n" * 4}) for n in range(20)
    ]
    report = similarity_report(class_, mistakes=mistakes, limit=3)
    flagged = [pair for pair in report.pairs if pair.same_mistakes]
    assert [(pair.students, pair.same_mistakes) for pair in flagged] == [
        (("s01", "s02"), ("pool.backward: [0.5, 1.5, 2.0]",))
    ]


def test_an_index_of_nothing_has_no_pairs() -> None:
    assert Index().pairs(limit=10) == []
    assert similarity_report([]).pairs == []
