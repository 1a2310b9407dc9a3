"""The models of a set file: its header, what every problem entry has besides its type's
parameters, and the JSON Schema of a whole file (for editors, built from the same models the
loader validates with)."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from problems.fields import DescribedSchema
from problems.parts import AnyPart
from problems.pools import PoolSpec
from problems.types import BY_TYPE
from problems.variants import Draw


class SetHeader(BaseModel):
    """The top of a set file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="The set's id: lower-case letters, digits and dashes (`conv-arithmetic`).",
    )
    title: str = Field(min_length=1, description="The set's title, as students see it.")
    source: str = Field(
        default="",
        description="Where the problems come from, for a reader: a course, a textbook, a paper, a model zoo.",
    )
    randomized: bool = Field(
        default=False,
        description="Whether each student gets their own numbers, drawn as the problems' `vary` say. A set with "
        "code parts is randomized whatever this says: each student's test inputs are their own.",
    )
    shuffle: bool = Field(
        default=False,
        description="Whether each student sees the problems in an order of their own (stable, drawn from the "
        "assignment's secret); by default the file's order.",
    )
    problems: list[Any] = Field(
        min_length=1,
        description="The problems, in order (see the problem entry); an entry may be a pool, "
        "`pool: {choose: K, problems: [...]}`, of which each student gets K problems.",
    )


class EntryFields(BaseModel):
    """What a problem entry has besides its type's parameters."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9_]+$",
        description="The problem's id, the first half of its answer keys (`q1` in `q1.shape`). Two entries "
        "may share an id (one question answered by two computations); their answer keys may not.",
    )
    title: str | None = Field(
        default=None,
        min_length=1,
        description="A short title, not empty, given on the first entry of each id (a later entry of the "
        "same id shares it); without one the problem is titled `Problem ID`.",
    )
    text: str = Field(
        default="",
        description="The statement. `{path}` is replaced by the parameter at that dotted path "
        "(`{layers.7.out_features}`, `{stride}`), so the text follows the numbers of each variant. "
        "Without text, or for types whose givens are never in the prose (images, matrices), the givens "
        "are listed after it.",
    )
    parts: list[AnyPart] = Field(
        min_length=1,
        description="The questions asked, one answer key each: computed from the problem's numbers, "
        "written (`answer: text`) and graded by staff with a rubric, or answered with code (`code: KIND`, in a "
        "problem of `type: code`) and run in the sandbox, or picked among `choices` (a letter each: `a`, `b`, ...).",
    )
    vary: dict[str, Draw] = Field(
        default_factory=dict,
        description="For a randomized set: the parameters drawn per student, by dotted path "
        "(`layers.0.out_channels`), each with its draw.",
    )


class ProblemEntry(EntryFields):
    """A problem entry as the loader reads it: the fields above, and the type's parameters beside them."""

    model_config = ConfigDict(extra="allow")


ENTRY_FIELDS = frozenset(EntryFields.model_fields)


def _entry_models() -> list[type[BaseModel]]:
    """One model per problem type: the entry's own fields and the type's parameters together."""
    return [
        create_model(
            f"{member.__name__.removesuffix('Problem')}Entry",
            __base__=(EntryFields, member),
            __doc__=member.__doc__,
        )
        for member in BY_TYPE.values()
    ]


def set_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a set file."""
    entries = _entry_models()
    entry: Any = Annotated[Union[tuple(entries)], Field(discriminator="type")]  # noqa: UP007
    spec = PoolSpec.model_fields
    pool = create_model(
        "Pool",
        __config__=ConfigDict(extra="forbid"),
        __doc__=PoolSpec.__doc__,
        choose=(int, Field(ge=1, description=spec["choose"].description)),
        problems=(list[entry], Field(min_length=1, description=spec["problems"].description)),
    )
    pooled = create_model(
        "PoolEntry",
        __config__=ConfigDict(extra="forbid"),
        __doc__="A group of problems, of which each student gets `choose`.",
        pool=(pool, ...),
    )
    problems = Field(min_length=1, description=SetHeader.model_fields["problems"].description)
    model = create_model(
        "SetFile",
        __base__=SetHeader,
        __doc__="A problem set: a header and its problems.",
        problems=(list[Union[entry, pooled]], problems),  # noqa: UP007
    )
    schema = TypeAdapter(model).json_schema(schema_generator=DescribedSchema)
    _allow_templates(schema["$defs"])
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _allow_templates(definitions: dict[str, Any]) -> None:
    """What the models take before their own validation changes it: a network's block or repeat
    may say ``use: BLOCK`` and ``with: {...}`` in place of its layers (``problems.types.templates``
    expands them), and ``from`` may be one name."""
    use = {"type": "string", "description": "A block of the network's `blocks`, in place of `layers`."}
    values = {"type": "object", "description": "The values of the block's `$placeholders`."}
    for name in ("Block", "Repeat"):
        definition = definitions[name]
        definition["properties"] |= {"use": use, "with": values}
        definition["required"] = [r for r in definition.get("required", []) if r != "layers"]
    for definition in definitions.values():  # a step's ``from: a`` is ``from: [a]`` (an anchor level's is a name)
        source = definition.get("properties", {}).get("from")
        if source is not None and not any(form.get("type") == "string" for form in source["anyOf"]):
            source["anyOf"].insert(0, {"type": "string"})
    first = definitions["Repeat"]["properties"]["first"]
    first["anyOf"].insert(
        0,
        {
            "type": "object",
            "properties": {"use": use, "with": values},
            "required": ["use"],
            "additionalProperties": False,
        },
    )
