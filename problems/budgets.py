"""What a set file may ask of the machine: every budget on what an author controls, stated once.

A set file comes from a user (an upload, ``grader sets validate``), and the loader parses it,
validates it and solves it on the declared numbers and the probe variants. Each budget bounds
one way a few hundred bytes could ask for unbounded time or memory, and is checked before the
work it bounds starts: the text before YAML reads it, the YAML's nesting and size while its
events stream by (before a node tree is built), a setting by its field, a network's expanded
size before its layers are planned. A set over a budget is refused at its line, with the budget
named. The values are far above any set of a course (the built-in sets, the published networks
of ``tests/problems``, ResNet-152 at 224×224) and low enough that the worst set under all of them
is checked in a second or two, in a few hundred MB.

The one budget that is counted rather than checked up front is the total work of checking a
set (:data:`MAX_WORK`): the solvers charge what they are about to do to a :class:`Meter` that the
loader sets for the time of its check; outside a check nothing is counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# --- the file --------------------------------------------------------------------------------

#: Characters of a set file: four times the service's default limit on a request (1 MiB); the
#: largest built-in set has 30,000. Reading is linear in the text, and what the text may hold is
#: bounded by the nodes below.
MAX_TEXT = 4_000_000
#: Levels of YAML nesting (a mapping or a list in another). The built-in sets use at most 9;
#: Python and libyaml walk the tree recursively, so this also keeps every walk far from the stack's end.
MAX_DEPTH = 32
#: YAML nodes (every key, value and item), an alias counted as the nodes it repeats: the largest
#: built-in set has 3,004. Bounds the node tree, the data built from it and every walk over them.
MAX_NODES = 100_000
#: Chained references between parts (``@q1.a`` using ``@q2.b`` using ...): 2 or 3 in a course;
#: each link is a few frames of recursion when the answers are solved.
MAX_REFERENCES = 16
#: Parts in one set (the built-in sets have at most 51): the self-test grades every part once
#: for each part it nudges, on every probe variant.
MAX_PARTS = 100
#: Answers a set tests itself with (``checks``), over all its parts: each is graded on every probe
#: variant.
MAX_CHECKS = 100

# --- networks (shape arithmetic) ---------------------------------------------------------------

#: Pixels on a side of any map a network makes (its input, every layer's output, a target size):
#: the published networks work on 224 to 608; the receptive-field and adaptive-pooling solvers
#: step over pixels.
MAX_SIDE = 4_096
#: Channels, features or units of any layer, and a flat input: the widest published layer has
#: 4,096 (VGG's classifier); a flat ImageNet input has 150,528.
MAX_UNITS = 1_000_000
#: A window's kernel, stride, dilation and padding, per axis: the published networks use at most
#: 11; a convolution that stands for a fully connected layer spans its whole map (224). The
#: receptive-field solver steps over a window's taps.
MAX_WINDOW = 1_024
#: Images in a network's batch (``batch``): courses ask of 8 to 256; a count is multiplied by it
#: once, so it bounds no work, only numbers beyond any question.
MAX_BATCH = 65_536
#: An upsampling factor: decoders use 2 to 32 (FCN-32s).
MAX_SCALE = 64
#: Taps a receptive field follows through one layer (its period times the taps per pixel, per
#: axis): a field past this (a 1,024-wide kernel after 4× upsampling) is not offered, as one that
#: differs from pixel to pixel is not; every field of a course follows a few dozen.
MAX_FIELD_WORK = 4_096
#: Layer instances of one network once its repeats are stacked (nested repeats multiply; a
#: repeat ``until`` a size stacks at most as many as fit): ResNet-152 with its batch norms and
#: activations has 515. Every instance is solved, and solved again under each known mistake.
MAX_LAYERS = 2_000

# --- image problems (numbers computed with numpy) --------------------------------------------

#: Elements of any matrix or stack of matrices an image problem reads or answers (its input,
#: its filters, its output, a drawn matrix): the most a student's answer may hold
#: (``grader.reading.values.MAX_ELEMENTS``); a course's are at most 8×8.
MAX_ELEMENTS = 10_000
#: Multiply-accumulates of one convolution or pooling problem, its padded input counted too:
#: a 100×100 input under a 10×10 kernel.
MAX_MACS = 1_000_000

# --- checking a set ------------------------------------------------------------------------------

#: Steps of work that checking one set may take, over its declared numbers and every probe
#: variant, redrawn variants and the searches of ``repeat until`` included. A step is about
#: 0.2 ms of checking a set: of solving it here and of its self-test, which grades every part
#: and solves every network again under each known mistake. Checking the built-in sets takes at
#: most 3,700 steps (``classic-architectures``: 1,202 layer instances).
MAX_WORK = 10_000
#: The steps of a layer instance solved (about 0.6 ms with its self-test: 0.1 ms here, the rest
#: its mistakes'), of nodes planned (about 10 µs each), of the taps a receptive field follows
#: through a layer (about 4 µs each, with the self-test's), and of an image problem's work: its
#: multiply-accumulates (numpy's vectorised work), its output elements (each graded by the
#: self-test, about 4 µs) and the windows pooling visits one by one (about 40 µs each, solved again by the self-test).
STEPS_PER_LAYER = 3
NODES_PER_STEP = 20
TAPS_PER_STEP = 50
MACS_PER_STEP = 100_000
OUTPUTS_PER_STEP = 50
WINDOWS_PER_STEP = 5


def image_steps(macs: int, outputs: int, windows: int = 0) -> int:
    """The steps of one image solve.

    >>> image_steps(macs=1_000_000, outputs=10_000), image_steps(macs=0, outputs=4096, windows=4096)
    (211, 901)
    """
    return 1 + macs // MACS_PER_STEP + outputs // OUTPUTS_PER_STEP + windows // WINDOWS_PER_STEP


class OverBudget(Exception):
    """Checking a set took more than :data:`MAX_WORK`. Deliberately no ``ValueError``: no solver,
    draw or mistake loop may take it for a setting it refuses and try another."""

    def __init__(self, used: int, limit: int, problem: str | None = None) -> None:
        self.used, self.limit, self.problem = used, limit, problem
        super().__init__(
            f"checking the set takes more than {limit:,} steps (its networks' layer instances and its image "
            f"problems' work, on the declared numbers and every probe variant), {over(limit, 'checking a set')}"
        )

    def at(self, problem: str) -> OverBudget:
        """The same, naming the problem that went over (the first to name it wins)."""
        return self if self.problem is not None else OverBudget(self.used, self.limit, problem)


@dataclass
class Meter:
    """Work done so far against a limit."""

    limit: int
    used: int = 0

    def charge(self, steps: int) -> None:
        self.used += steps
        if self.used > self.limit:
            raise OverBudget(self.used, self.limit)


_METER: ContextVar[Meter | None] = ContextVar("problems_budget_meter", default=None)


@contextmanager
def metered(limit: int = MAX_WORK) -> Iterator[Meter]:
    """Count the solvers' work in this context (a thread, a task) against ``limit``."""
    meter = Meter(limit)
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def charge(steps: int) -> None:
    """Charge work about to be done to the current meter (none: nothing is counted). Raises
    :class:`OverBudget` once the meter's limit is passed."""
    meter = _METER.get()
    if meter is not None:
        meter.charge(steps)


def over(limit: int, what: str) -> str:
    """How a refusal names the budget it breaks: ``over the budget for a map's side (4,096)``."""
    return f"over the budget for {what} ({limit:,})"
