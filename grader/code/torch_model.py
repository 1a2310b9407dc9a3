"""The judging of a student's PyTorch model (``torch.model`` tests) from the arrays the sandbox's
probes hand back: the output's shape, the parameter count against the student's own answer and
against a budget, and whether a short training run lowers the loss.

Every array here came out of the student's process, so each is checked for its form before it is
read (a model may have patched torch itself): a malformed one is a wrong answer, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.reading import Read, read_answer
from problems.code.kinds.base import Drawn, Outputs, Verdict
from problems.code.kinds.torch_model import AVERAGED_STEPS, ModelSettings, TorchModel
from problems.code.parts import CodeTest
from problems.kinds import JSON, AnswerKind, Dimension

KIND = TorchModel.name
_KIND = TorchModel()

HOW_TO_COUNT = (
    "Count each layer's weights and biases: a convolution has (C_in·K_H·K_W + 1)·C_out, a linear layer "
    "(inputs + 1)·outputs, a batch norm 2·C; pooling, activations and flattening have none."
)

MALFORMED = "The sandbox's answer for this model was malformed, so it cannot be judged."


def shape_text(shape: Sequence[int], batch: int) -> str:
    """A shape with the batch axis written ``N`` when it is the batch's size: ``(N, 16, 5, 5)``."""
    sides = [str(side) for side in shape]
    if sides and shape[0] == batch:
        sides[0] = "N"
    return "(" + ", ".join(sides) + ")" if len(sides) != 1 else f"({sides[0]},)"


def judge_shape(settings: ModelSettings, batch: int, outputs: Outputs) -> Verdict:
    """The logits of a batch of ``batch`` images: one row of ``classes`` per image."""
    if len(outputs) != 1:
        return Verdict(False, MALFORMED)
    got = tuple(int(side) for side in outputs[0].shape)
    wanted = (batch, settings.classes)
    expected = f"(N, {settings.classes})"
    if got == wanted:
        return Verdict(True, f"The output is {expected}, one score per class for each of the N = {batch} images.")
    said = f"{expected} expected, got {shape_text(got, batch)}"
    if len(got) > 2 and got[0] == batch:
        flat = int(np.prod(got[1:]))
        why = f"the output was not flattened to a row per image and given to a layer of {settings.classes} outputs"
        return Verdict(False, f"{said} ({'·'.join(map(str, got[1:]))} = {flat:,} values per image): {why}.")
    if len(got) == 2 and got[0] == batch:
        return Verdict(False, f"{said}: the last layer gives {got[1]:,} values per image, not {settings.classes}.")
    if not got or got[0] != batch:
        why = f"the batch of N = {batch} images is not the first axis (was it flattened into one row?)"
        return Verdict(False, f"{said}: {why}.")
    return Verdict(False, f"{said}.")


#: A layer's name as shown back: an attribute's name (``fc1``) or a position in a sequence (``0``).
LAYER_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")


@dataclass(frozen=True)
class Counts:
    """A model's parameters: the total, and each top-level layer's with its name (None where the
    sandbox's names were not usable: the layers are then shown by their counts alone)."""

    total: int
    layers: tuple[int, ...]
    names: tuple[str, ...] | None

    def by_layer(self) -> str:
        """``conv1 456, pool 0, conv2 2,416`` (top-level layers in the order they were defined)."""
        if not self.layers:
            return "no layers"
        if self.names is None:
            return ", ".join(f"{n:,}" for n in self.layers)
        return ", ".join(f"{name} {n:,}" for name, n in zip(self.names, self.layers, strict=True))


def counts(outputs: Outputs) -> Counts | None:
    """The counts in the sandbox's answer, or None when malformed."""
    if len(outputs) not in (2, 3):
        return None
    per_tensor, per_layer = outputs[:2]
    for array in (per_tensor, per_layer):
        if array.ndim != 1 or array.dtype.kind not in "iu" or (array.size and int(array.min()) < 0):
            return None
    layers = tuple(int(n) for n in per_layer)
    return Counts(int(per_tensor.sum(dtype=np.int64)), layers, _names(outputs[2:], len(layers)))


def _names(outputs: Outputs, count: int) -> tuple[str, ...] | None:
    """The layers' names from their UTF-8 bytes, when there is one plain name per layer."""
    if len(outputs) != 1 or outputs[0].dtype != np.uint8 or outputs[0].ndim != 1 or count == 0:
        return None
    names = bytes(outputs[0]).decode(errors="replace").split("\n")
    if len(names) != count or not all(LAYER_NAME.fullmatch(name) for name in names):
        return None
    return tuple(names)


def stated_count(answers: Mapping[str, JSON], key: str) -> int | str:
    """The student's answer to ``key`` read as a count of parameters, or why it cannot be."""
    raw = answers.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return f"There is no answer to {key} to compare the count with."
    read = read_answer(raw, AnswerKind.INTEGER, dimension=Dimension.PARAMETERS)
    if not isinstance(read, Read):
        return f"Your answer to {key} could not be read: {read.reason}"
    value = read.value.value
    if value.denominator != 1:
        return f"Your answer to {key} ({read.shown}) is not a whole number of parameters."
    return int(value)


def judge_params(settings: ModelSettings, outputs: Outputs, answers: Mapping[str, JSON]) -> Verdict:
    """The model's own parameter count against the student's answer to ``settings.answer``."""
    found = counts(outputs)
    if found is None:
        return Verdict(False, MALFORMED)
    total = found.total
    assert settings.answer is not None  # (a params test names it: the kind refuses one without)
    stated = stated_count(answers, settings.answer)
    if isinstance(stated, str):
        return Verdict(False, stated)
    if stated == total:
        return Verdict(True, f"Your Net has {total:,} parameters, as you answered in {settings.answer}.")
    # the count is the answer of a graded part: its feedback does not give it away
    return Verdict(
        False, f"You answered {stated:,} in {settings.answer}, which is not your Net's count. {HOW_TO_COUNT}"
    )


def judge_budget(settings: ModelSettings, outputs: Outputs) -> Verdict:
    """At most ``settings.budget`` parameters."""
    found = counts(outputs)
    if found is None:
        return Verdict(False, MALFORMED)
    total = found.total
    assert settings.budget is not None  # (a budget test gives it: the kind refuses one without)
    if total <= settings.budget:
        return Verdict(True, f"Within the budget of {settings.budget:,} parameters.")
    over = f"{total:,} parameters, {total - settings.budget:,} over the budget of {settings.budget:,}"
    return Verdict(False, f"{over} (by top-level layer: {found.by_layer()}).")


def judge_training(settings: ModelSettings, outputs: Outputs) -> Verdict:
    """The loss of a short training run falls: the mean of its last steps below ``settings.share`` of
    the mean of its first (one mini-batch's loss is noisy)."""
    if len(outputs) != 2 or outputs[0].ndim != 1 or outputs[0].size < 2 * AVERAGED_STEPS or outputs[1].size != 1:
        return Verdict(False, MALFORMED)
    losses, connected = outputs[0].astype(np.float64), bool(outputs[1].reshape(()).item())
    steps = losses.size
    if not connected:
        return Verdict(
            False,
            "The loss does not depend on any trainable parameter of your Net (is the output detached, or made "
            "without the layers' weights?), so training cannot change it.",
        )
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        return Verdict(False, f"The loss was {losses[bad[0]]} at training step {int(bad[0]) + 1} of {steps}.")
    first, final = float(losses[:AVERAGED_STEPS].mean()), float(losses[-AVERAGED_STEPS:].mean())
    goal = settings.share * first
    run = f"over {steps} steps of Adam on handwritten digits (means of the first and the last {AVERAGED_STEPS})"
    if final < goal:
        return Verdict(True, f"The loss fell from {first:.3g} to {final:.3g} {run}.")
    return Verdict(
        False,
        f"The loss went from {first:.3g} to {final:.3g} {run}; below {goal:.3g} ({settings.share:.0%} of the "
        "first) was expected.",
    )


def verdict(test: CodeTest, drawn: Drawn, outputs: Outputs, answers: Mapping[str, JSON]) -> Verdict:
    """One test of a ``torch.model`` part, by its check (the signature of ``CodeKind.verdict``)."""
    settings = _KIND.setting(test)
    if settings.check == "shape":
        return judge_shape(settings, int(drawn.named["x"].shape[0]), outputs)
    if settings.check == "params":
        return judge_params(settings, outputs, answers)
    if settings.check == "budget":
        return judge_budget(settings, outputs)
    return judge_training(settings, outputs)
