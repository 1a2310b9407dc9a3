"""The problem types, as one discriminated union keyed by ``type``."""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from problems.types.base import ProblemSpec, Quantity
from problems.types.code import CodeProblem
from problems.types.convolution import Conv2dProblem, ConvTransposeProblem
from problems.types.derived import DerivedProblem
from problems.types.detection import YoloProblem
from problems.types.formula import FormulaProblem
from problems.types.geometry import AnchorsProblem, BoxesProblem
from problems.types.inverse import InverseProblem
from problems.types.network import NetworkProblem
from problems.types.pooling import PoolProblem
from problems.types.prose import ProseProblem

AnyProblem = Annotated[
    Conv2dProblem
    | ConvTransposeProblem
    | PoolProblem
    | NetworkProblem
    | YoloProblem
    | BoxesProblem
    | AnchorsProblem
    | InverseProblem
    | FormulaProblem
    | DerivedProblem
    | ProseProblem
    | CodeProblem,
    Field(discriminator="type"),
]

#: Each problem type by the name its ``type:`` gives, in the union's order.
BY_TYPE: dict[str, type[ProblemSpec]] = {
    member.model_fields["type"].default: member for member in get_args(get_args(AnyProblem)[0])
}

__all__ = ["BY_TYPE", "AnyProblem", "ProblemSpec", "Quantity"]
