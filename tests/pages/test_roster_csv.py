"""A roster CSV read into the roster import's payload, or refused with each problem at its line."""

from __future__ import annotations

import pytest

from api.courses.schemas import ImportedRole
from api.pages.staff.roster_csv import ignored_columns, parse_roster


def test_a_file_with_a_header_in_any_order_gives_the_members_with_their_roles() -> None:
    # (as a spreadsheet saves it: a byte-order mark, CRLF, a blank row)
    saved = "\ufeffName, ID ,role,email\r\nAda Lovelace,s1,,ada@example.edu\r\n\r\nGrace Hopper,t1,ta,\r\n"
    roster = parse_roster(saved)
    assert roster.errors == []
    assert roster.members is not None
    ada, grace = roster.members.members
    assert (ada.id, ada.name, ada.email, ada.role) == ("s1", "Ada Lovelace", "ada@example.edu", ImportedRole.STUDENT)
    assert (grace.id, grace.name, grace.email, grace.role) == ("t1", "Grace Hopper", None, ImportedRole.TA)


def test_a_file_without_a_header_is_read_as_id_name_email_role() -> None:
    roster = parse_roster("s1,Ada\ns2,Alan,alan@example.edu,instructor\n")
    assert roster.members is not None
    assert [(m.id, m.role) for m in roster.members.members] == [("s1", ImportedRole.STUDENT), ("s2", "instructor")]


def test_a_quoted_name_with_a_comma_and_a_line_break_is_one_cell_and_later_lines_keep_their_numbers() -> None:
    roster = parse_roster('id,name\ns1,"Lovelace, Ada\n(Countess)"\nbad id,Someone\n')
    assert roster.members is None
    assert [(e.line, e.column) for e in roster.errors] == [(4, "id")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # each bad row at its own line (the header is line 1, blank lines count)
        (
            "id,name,email,role\ns1,Ada,,\n\nbad id!,Bob,,\ns3,,c@d.org,teacher\ns4,Dan,not-an-email,ta\n",
            [
                (4, "id", "should be 1 to 64 letters"),
                (5, "name", "is required"),
                (5, "role", "'student', 'ta' or 'instructor'"),
                (6, "email", '"not-an-email" is not an address mail can be sent to: it has no @'),
            ],
        ),
        # an address no relay without SMTPUTF8 takes, or with a line break in it (a quoted cell)
        (
            'id,name,email\ns1,José,josé@example.edu\ns2,Ada,"ada\u2028@example.edu"\n',
            [
                (
                    2,
                    "email",
                    '"josé@example.edu" is not an address mail can be sent to: it holds "é", which is not ASCII',
                ),
                (3, "email", '"ada\\u2028@example.edu" is not an address mail can be sent to: it holds U+2028'),
            ],
        ),
        # more values than columns
        ("s1,Ada,,student,extra\n", [(1, None, "5 values, but only 4 columns")]),
        # a header that names no id, or an unknown column
        ("name,email\nAda,a@b.org\n", [(1, None, "the header has no 'id' column")]),
        ("id,name,group\ns1,Ada,A\n", [(1, None, "unknown columns 'group'")]),
        # nothing to import
        ("", [(1, None, "the file has no members")]),
        ("id,name\n\n", [(1, None, "a header but no members")]),
    ],
)
def test_what_cannot_be_imported_is_reported_at_its_line_and_nobody_is_imported(
    text: str, expected: list[tuple[int, str | None, str]]
) -> None:
    roster = parse_roster(text)
    assert roster.members is None
    assert [(e.line, e.column) for e in roster.errors] == [(line, column) for line, column, _ in expected]
    for error, (_, _, words) in zip(roster.errors, expected, strict=True):
        assert words in error.message, error
    assert str(roster.errors[0]).startswith(f"line {expected[0][0]}: ")


def test_more_members_than_one_import_takes_are_refused_by_the_import_s_own_limit() -> None:
    text = "".join(f"s{i},Student {i}\n" for i in range(5001))
    roster = parse_roster(text)
    assert roster.members is None and "at most 5000" in roster.errors[0].message


#: Canvas's gradebook export, as it saves it: its student columns, a section, assignments and
#: totals, the "Points Possible" row, a "Manual Posting" row naming nobody.
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Homework 1 (1234),Current Score,Final Score\r\n"
    "    Points Possible,,,,,10,(read only),(read only)\r\n"
    ",,,,,Manual Posting,,\r\n"
    '"Lovelace, Ada",101,s1001,ada@example.edu,CS 101 A,9,90,90\r\n'
    '"Hopper, Grace",102,,ghopper,CS 101 A,7,70,70\r\n'
    "Cher,103,,,CS 101 B,,,\r\n"
)


def test_a_canvas_gradebook_export_gives_its_students_and_names_the_columns_ignored() -> None:
    roster = parse_roster(CANVAS_EXPORT)
    assert roster.errors == [] and roster.members is not None
    found = [(m.id, m.name, m.email, m.role) for m in roster.members.members]
    assert found == [
        ("s1001", "Ada Lovelace", "ada@example.edu", ImportedRole.STUDENT),  # the SIS User ID, "First Last"
        ("ghopper", "Grace Hopper", None, ImportedRole.STUDENT),  # no SIS User ID: the login; not an address
        ("103", "Cher", None, ImportedRole.STUDENT),  # neither: Canvas's own id; one name as it is
    ]
    assert roster.ignored == ["Section", "Homework 1 (1234)", "Current Score", "Final Score"]
    assert ignored_columns(roster.ignored) == "Ignored columns: Section, Homework 1 (1234), Current Score, Final Score"


def test_a_bad_row_of_a_canvas_export_is_reported_at_its_own_line() -> None:
    text = 'Student,ID,SIS User ID,SIS Login ID\nPoints Possible,,,\n"Doe, Jane",7,bad id!,\n'
    roster = parse_roster(text)
    assert roster.members is None and [(e.line, e.column) for e in roster.errors] == [(3, "id")]


def test_many_ignored_columns_are_named_up_to_a_dozen() -> None:
    named = ignored_columns([f"Quiz {n}" for n in range(1, 16)])
    assert named.startswith("Ignored columns: Quiz 1, Quiz 2") and named.endswith("Quiz 12 and 3 more")
