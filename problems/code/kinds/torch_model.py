"""A student's PyTorch model: ``class Net(torch.nn.Module)``, checked by probes of the sandbox
(``@torch.forward``, ``@torch.parameters``, ``@torch.train``: :mod:`sandbox.probes`) that build
the student's model behind the walls and hand back only arrays: its logits on a batch, its
parameter counts, the losses of a short training run on scikit-learn's digits. Each test is one
check, named by its ``check`` setting; the judging of the arrays is :mod:`grader.code.torch_model`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from problems.code import digits
from problems.code.kinds.base import Arg, CodeKind, Drawn, Outputs, draw_values
from problems.code.spec import CodeTest
from problems.kinds import JSON

Check = Literal["shape", "params", "budget", "trains"]

#: The sandbox's probe each check calls (its first argument the part's class, then the drawn ones).
PROBES: dict[str, str] = {
    "shape": "@torch.forward",
    "params": "@torch.parameters",
    "budget": "@torch.parameters",
    "trains": "@torch.train",
}


#: Training steps whose losses are averaged at each end of a run (one mini-batch's loss is noisy).
AVERAGED_STEPS = 5


class ModelSettings(BaseModel):
    """A model test's settings: which check it makes, and that check's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    check: Check = Field(
        description="What the test checks: `shape` (the output on a batch of `shapes.x` is one row of `classes` "
        "per image), `params` (the model's parameter count is the student's own answer to the part `answer`), "
        "`budget` (at most `budget` parameters) or `trains` (a short training run on handwritten digits "
        "lowers the loss)."
    )
    classes: int = Field(default=10, ge=1, le=1000, description="The classes the model tells apart (`shape`).")
    answer: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        description="The answer key where the student states the model's parameter count, for a `params` test "
        "(`net.params`: usually the test's own part, answered with that number and running the model's module "
        "by `module: model`).",
    )
    budget: int | None = Field(default=None, ge=1, le=10**10, description="The most parameters allowed (`budget`).")
    steps: int = Field(
        default=40,
        ge=2 * AVERAGED_STEPS,
        le=200,
        description="Training steps, one mini-batch of `shapes.x` each (`trains`).",
    )
    samples: int = Field(
        default=128,
        ge=1,
        le=512,
        description="Digits drawn per student for training, cycled through in mini-batches (`trains`).",
    )
    learning_rate: float = Field(default=0.005, gt=0, le=1, description="Adam's step size (`trains`).")
    share: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description=f"The mean loss of the last {AVERAGED_STEPS} steps must fall below this share of the mean of the "
        f"first {AVERAGED_STEPS} (`trains`). A model that learns only how often each class comes (its biases) "
        "stays at about 0.99.",
    )


class TorchModel(CodeKind):
    name = "torch.model"
    function = "Net"
    signature = "class Net(torch.nn.Module)"
    runtime = "torch"
    arrays: ClassVar[dict[str, int]] = {"x": 4}
    settings_model = ModelSettings
    drivable = False

    def setting(self, test: CodeTest) -> ModelSettings:
        found = self.settings(test)
        assert isinstance(found, ModelSettings)
        return found

    def check(self, test: CodeTest) -> None:
        super().check(test)
        s = self.setting(test)
        if s.check == "params" and s.answer is None:
            raise ValueError("answer: a params test names the part that states the count (`answer: net.params`)")
        if s.check == "budget" and s.budget is None:
            raise ValueError("budget: a budget test gives the most parameters allowed (`budget: 100000`)")
        if s.check == "trains":
            batch, *image = test.shapes["x"]
            if image != [digits.CHANNELS, digits.SIDE, digits.SIDE]:
                side = digits.SIDE
                raise ValueError(
                    f"shapes.x: the digits a model trains on are {digits.CHANNELS}×{side}×{side}: [B, 3, 32, 32]"
                )
            if not batch <= s.samples <= digits.count():
                raise ValueError(f"samples: between the batch of {batch} and the {digits.count():,} digits there are")

    def work(self, test: CodeTest) -> int:
        return int(np.prod(test.shapes["x"]))  # nothing is computed outside but the inputs

    def call(self, called: str, test: CodeTest, drawn: Drawn) -> tuple[str, tuple[Arg, ...]]:
        """The test's probe of the sandbox, given the part's class name first."""
        return PROBES[self.setting(test).check], (called, *drawn.args)

    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        """The probe's arguments after the class's name: a batch (and the weights' seed) for
        ``shape``, ``params`` and ``budget``; for ``trains``, the digits and the run's settings."""
        s = self.setting(test)
        seed = int(rng.integers(0, 2**31 - 1))
        shape = test.shapes["x"]
        if s.check == "trains":
            x, y = digits.sample(rng, s.samples)
            args: tuple[Arg, ...] = (x, y, s.steps, shape[0], s.learning_rate, seed)
            return Drawn(args, {"x": x, "y": y})
        values = test.values
        x = draw_values(rng, shape, values.low, values.high, values.integers).astype(np.float32)
        if s.check != "shape":
            x = x[:1]  # one image: lazy layers take their sizes from it
        return Drawn((x, seed), {"x": x})

    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        """The shape a right model's output has (no values: a model's outputs are its own)."""
        return (np.zeros((drawn.named["x"].shape[0], self.setting(test).classes)),)

    def solution_answers(self, test: CodeTest, outputs: Outputs) -> dict[str, JSON]:
        """A ``params`` test checks the solution against its own count."""
        s = self.setting(test)
        if s.check != "params" or s.answer is None or not outputs or outputs[0].dtype.kind not in "iu":
            return {}
        return {s.answer: int(outputs[0].sum())}
