"""The similarity report's request and answer (contract: "Similarity (staff only")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field

from api.kit.schemas import RequestSchema, Schema, printable
from api.similarity.references import MAX_REFERENCES
from api.similarity.service import MAX_STARTER

#: Parts named in a request, at most.
MAX_PARTS = 100


class SimilarityIn(RequestSchema):
    """What to compare: some code and written parts (all by default), and the starter code given to
    students, which counts for nothing (nor do the set's solutions)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"parts": ["conv.forward"], "starter": "def conv_forward(x, w, b):\n    pass\n"}]
        },
    )

    parts: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=MAX_PARTS, description="Code and written part keys to compare (all of them if absent)."
    )
    starter: Annotated[str, AfterValidator(printable)] | None = Field(
        default=None,
        max_length=MAX_STARTER,
        description="Starter code handed out: what students kept of it counts for nothing.",
    )
    references: list[ReferenceIn] | None = Field(
        default=None,
        max_length=MAX_REFERENCES,
        description="Earlier assignments (of courses you staff) whose submissions are compared against, never "
        "paired with each other (404 for a course you do not staff).",
    )


class ReferenceIn(RequestSchema):
    """An earlier assignment (a past term's, say) whose submissions are compared against."""

    model_config = ConfigDict(extra="forbid")

    course: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="Its course (this one if absent): one you staff."
    )
    assignment: str = Field(max_length=64, description="The assignment's id in that course.")


class BlockOut(Schema):
    number: int = Field(description="The matching block's number, in the first student's order.")
    first: list[int] = Field(description="Its first and last line in the first student's code.")
    second: list[int] = Field(description="Its first and last line in the second student's code.")


class PassageOut(Schema):
    number: int = Field(description="The shared passage's number, in the first student's order.")
    first: list[int] = Field(description="Its start and end (characters, end excluded) in the first's answer.")
    second: list[int] = Field(description="Its start and end (characters, end excluded) in the second's answer.")
    text: str = Field(description="The passage, as the first student wrote it (cut at 300 characters).")


class WrittenOut(Schema):
    part: str = Field(description="The written part.")
    score: float = Field(description="0 to 1: the runs of words they share, weighed by how rare they are.")
    shared_words: int = Field(description="Words of the first's answer in shared passages.")
    passages: list[PassageOut] = Field(description="The rare passages both wrote, numbered.")


class PairOut(Schema):
    students: list[str] = Field(description="The two students, sorted.")
    score: float = Field(description="0 to 1: what they share, weighed by how rare it is in the class.")
    shared_tokens: int = Field(description="Tokens of code the two share (the smaller side's).")
    same_mistakes: list[str] = Field(
        description="Rare mistakes both made (a named mistake, or the same failed test and values)."
    )
    parts: list[str] = Field(description="The code parts their shared blocks are in, then the written parts.")
    fragments: list[str] = Field(default_factory=list, description="The rarest shared fragments (the first's lines).")
    names: list[str] = Field(default_factory=list, description="Rare names both wrote.")
    comments: list[str] = Field(default_factory=list, description="Rare comments both wrote.")
    blocks: list[BlockOut] = Field(default_factory=list, description="The matching blocks, numbered.")
    reference: str | None = Field(
        default=None, description="The earlier assignment's submission in this pair (`COURSE/ASSIGNMENT/STUDENT`)."
    )
    written: list[WrittenOut] = Field(
        default_factory=list,
        description="Written parts whose answers share rare passages (each also in `parts`; the pair's score is "
        "the highest of its code's and these).",
    )


class SimilarityOut(Schema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "status": "done",
                    "job": 4,
                    "pairs": [
                        {
                            "students": ["s1", "s7"],
                            "score": 0.93,
                            "shared_tokens": 212,
                            "same_mistakes": ["conv.forward: flipped kernel"],
                            "parts": ["conv.forward"],
                        }
                    ],
                    "clusters": [["s1", "s4", "s7"]],
                }
            ]
        },
    )

    status: str = Field(
        description="`none` (never asked for), `queued` or `running` (the last report, if any, meanwhile), "
        "`failed` (see `error`), `done`."
    )
    job: int | None = Field(default=None, description="The latest report job (`GET /api/v1/jobs/{id}`).")
    error: str | None = None
    computed_at: datetime | None = Field(default=None, description="When the report shown was computed.")
    parts: list[str] = Field(default_factory=list, description="The code parts compared, then the written ones.")
    students: int = Field(default=0, description="Students compared (each one's latest submission).")
    pairs_compared: int = 0
    new_submissions: int = Field(
        default=0, description="Students' submissions newer than the report: ask again to add them."
    )
    pairs: list[PairOut] = Field(description="Pairs ranked by score, best first: evidence for a person to judge.")
    clusters: list[list[str]] = Field(description="Groups of three or more students linked by high-scoring pairs.")
    submissions: dict[str, int] = Field(
        default_factory=dict, description="Each student's submission compared (and each reference's)."
    )
    references: list[dict[str, str]] = Field(
        default_factory=list, description='The earlier assignments compared against (`{"course", "assignment"}`).'
    )
