"""The JSON schemas of the text types and of the answers accept exactly what the service accepts
(pydantic strips, then checks lengths and patterns, then refuses control characters; the schemas
say it in one pattern each)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from api.handgrading.schemas import Comment, ItemText
from api.kit.schemas import Email, Identifier, Name
from api.submissions.schemas import Answers, check_answers

#: Characters at the edges of the rules: stripped or not, control or not, id characters, ``@``.
EDGES = " \t\n\r\x0b\x0c\x00\x07\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b"
TRICKY = "aZ09._-@\x7fé" + EDGES
TYPES = {
    "identifier": Identifier,
    "name": Name,
    "email": Email,
    "rubric item text": ItemText,
    "comment": Comment,
}


def accepted_by_schema(schema: dict[str, Any], text: str) -> bool:
    if "maxLength" in schema and len(text) > schema["maxLength"]:
        return False
    return re.fullmatch(schema["pattern"], text) is not None


def accepted_by_service(adapter: TypeAdapter[str], text: str) -> bool:
    try:
        adapter.validate_python(text)
    except ValidationError:
        return False
    return True


def texts() -> st.SearchStrategy[str]:
    """Cores around the length limits (64, 200, 320) or of any tricky characters, wrapped in
    what may or may not be stripped."""
    core = st.one_of(
        st.text(alphabet=TRICKY, max_size=8),
        st.builds(
            lambda head, n, tail: head + "a" * n + tail,
            st.text(alphabet=TRICKY, max_size=2),
            st.sampled_from(
                [
                    *(0, 1, 60, 61, 62, 63, 64, 194, 195, 196, 197, 198, 199, 200),
                    *(315, 316, 317, 318, 319, 320, 498, 499, 500),
                ]
            ),
            st.text(alphabet=TRICKY, max_size=2),
        ),
        st.builds(
            lambda a, b: f"{a}@{b}",
            st.text(alphabet="ab.\x7f", min_size=1, max_size=3),
            st.text(alphabet="ab", max_size=3),
        ),
    )
    edge = st.text(alphabet=EDGES, max_size=2)
    return st.builds(lambda left, middle, right: left + middle + right, edge, core, edge)


@pytest.mark.parametrize("name", sorted(TYPES))
@settings(max_examples=200, derandomize=True, deadline=None)
@given(text=texts())
def test_schema_and_service_agree(name: str, text: str) -> None:
    adapter = TypeAdapter(TYPES[name])
    schema = adapter.json_schema()
    assert accepted_by_schema(schema, text) == accepted_by_service(adapter, text), repr(text)


@pytest.mark.parametrize("name", sorted(TYPES))
@settings(max_examples=50, derandomize=True, deadline=None)
@given(data=st.data())
def test_whatever_the_schema_generates_is_accepted(name: str, data: st.DataObject) -> None:
    adapter = TypeAdapter(TYPES[name])
    schema = adapter.json_schema()
    text = data.draw(st.from_regex(schema["pattern"], fullmatch=True).filter(lambda t: accepted_by_schema(schema, t)))
    assert accepted_by_service(adapter, text), repr(text)


BOUNDARIES = [
    "a" * 64,
    "a" * 65,
    " a" + "a" * 63 + "\u3000",
    "a" * 200,
    "a" * 201,
    "\x85" + "a" * 200 + "\x0b",
    "a\x0ba",
    "\x0ba\x0c",
    "a" * 150 + "@" + "b" * 169,
    "a" * 150 + "@" + "b" * 170,
    " " + "a" * 150 + "@" + "b" * 169,
]


@pytest.mark.parametrize("name", sorted(TYPES))
@pytest.mark.parametrize("text", BOUNDARIES, ids=range(len(BOUNDARIES)))
def test_schema_and_service_agree_at_the_limits(name: str, text: str) -> None:
    adapter = TypeAdapter(TYPES[name])
    assert accepted_by_schema(adapter.json_schema(), text) == accepted_by_service(adapter, text)


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


ANSWERS = [
    {"q1.a": nested(6)},
    {"q1.a": nested(7)},
    {"q1.a": {"x": 1}},
    {"q1.a": True, "q1.b": None, "q1.c": 1.5, "q1.d": "3 × 3\n"},
    {"q1.a": "tab\tok", "q1.b": "bell\x07"},
    {"": 1},
    {"k" * 101: 1},
    {"q1.a": "x" * 20_001},
    {f"k{i}": 1 for i in range(501)},
]


@pytest.mark.parametrize("answers", ANSWERS, ids=range(len(ANSWERS)))
def test_the_answers_schema_and_the_service_agree(answers: dict[str, Any]) -> None:
    schema = TypeAdapter(Answers).json_schema()
    try:
        check_answers(answers)
        accepted = True
    except ValueError:
        accepted = False
    assert jsonschema_rs.validator_for(schema).is_valid(answers) == accepted
