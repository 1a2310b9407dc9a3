"""A refused set file's issues placed beside the lines they are about."""

from __future__ import annotations

from api.pages.staff.set_issues import place_issues

TEXT = "id: s\ntitle: A set\nproblems:\n  - id: q1\n    type: nope\n    parts: []\n"


def test_an_issue_comes_with_the_lines_around_it_and_its_own_line_marked() -> None:
    (issue,) = place_issues(TEXT, [{"line": 5, "column": 11, "field": "q1.type", "message": "unknown type"}])
    assert issue.where == "5:11" and issue.caret == 10 and issue.field == "q1.type"
    assert [(line.number, line.marked) for line in issue.excerpt] == [
        (3, False),
        (4, False),
        (5, True),
        (6, False),
    ]
    assert issue.excerpt[2].text == "    type: nope"


def test_issues_are_in_file_order_and_one_without_a_line_has_no_excerpt() -> None:
    issues = place_issues(
        TEXT,
        [
            {"line": 4, "column": 5, "field": "q1", "message": "b"},
            {"line": None, "column": None, "field": None, "message": "a"},
            {"line": 1, "column": 1, "field": "id", "message": "c"},
        ],
    )
    assert [i.message for i in issues] == ["a", "c", "b"]
    assert issues[0].excerpt == () and issues[0].where == "-"
    assert [line.number for line in issues[1].excerpt] == [1, 2, 3]


def test_a_refusal_in_one_sentence_is_one_issue() -> None:
    (issue,) = place_issues(TEXT, "The set file is not UTF-8 text.")
    assert issue.message == "The set file is not UTF-8 text." and issue.line is None
