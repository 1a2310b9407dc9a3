"""The reference for authors of set files (``docs/set-files.md``), written from the models the
loader validates with: every field's type, default and description, every problem type with an
example and the quantities it computes, every network step, every draw, the self-tests and the
mistake codes. ``grader sets reference`` prints it; a test keeps the committed page equal to it."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cli.quantities import quantity_table
from grader.comparison.mistakes import EXPLANATIONS
from problems import budgets
from problems.choices import ChoiceOption, ChoicePart
from problems.code.kinds import KINDS
from problems.code.parts import MAX_CALLS, MAX_SET_WORK, MAX_TESTS, CodePart, CodeTest, Values
from problems.code.parts import MAX_ELEMENTS as CODE_ELEMENTS
from problems.code.parts import MAX_WORK as CODE_WORK
from problems.code.parts import Tolerance as CodeTolerance
from problems.code.spec import ArrayInput, FixedInput
from problems.fields import DescribedSchema  # noqa: F401  (gives the layer settings their descriptions)
from problems.kinds import AnswerKind, Layout
from problems.parts import Operation, Part, RubricItemTemplate, Tolerance, WrittenPart
from problems.pools import PoolSpec
from problems.setfile import EntryFields, SetHeader
from problems.sets import SPEC
from problems.solvers.graph import Block, LayerKinds, Repeat, Until
from problems.solvers.storage import StoredValues
from problems.types import BY_TYPE
from problems.types.base import Matrix
from problems.types.geometry import AnchorLevel
from problems.variants import Draw, MatrixDraw

PAGE = "docs/set-files.md"

#: One small example per problem type: the parameters, as a set file writes them.
EXAMPLES: dict[str, dict[str, Any]] = {
    "conv2d": {
        "input": [[1, 2, 0], [0, 1, 3], [2, 2, 1]],
        "kernel": [[1, 0], [0, -1]],
        "stride": 1,
        "padding": 1,
    },
    "conv_transpose2d": {"input": [[1, 2], [3, 4]], "kernel": [[1, 0], [0, 1]], "stride": 2},
    "pool2d": {"input": [[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]], "kernel": 2, "stride": 2},
    "network": {
        "input": [32, 32, 3],
        "layers": [
            {"kind": "conv", "name": "conv1", "out_channels": 16, "kernel": 3, "padding": 1},
            {"kind": "activation"},
            {"kind": "pool", "kernel": 2},
            {"kind": "flatten"},
            {"kind": "linear", "name": "fc", "out_features": 10},
        ],
    },
    "yolo": {"version": "v3", "classes": 80, "input_size": 416},
    "boxes": {"boxes": [[0, 0, 4, 4], [2, 2, 6, 6], [10, 10, 12, 12]], "scores": [0.9, 0.8, 0.7]},
    "anchors": {"head": "rpn", "levels": [{"grid": 50, "sizes": [32], "ratios": [0.5, 1, 2]}]},
    "inverse": {"find": "kernel", "size_in": 32, "size_out": 28},
    "formula": {
        "symbols": ["H", "W", "M", "N", "K"],
        "input": ["H", "W", "M"],
        "out_channels": "N",
        "kernel": "K",
        "padding": "same",
    },
    "derived": {},
    "prose": {},
    "code": {
        "solution": "import numpy as np\n\n\ndef max_pool_forward(x, size, stride):\n    ...\n",
        "runtime": "numpy",
    },
}

CODE_EXAMPLE = """\
Example: a problem answered with code; the tests give shapes and settings, the inputs are drawn per
student and the references computed.

```yaml
- id: conv
  type: code
  title: Convolution, forward
  text: Implement `conv_forward(x, w, b, stride=1, pad=0)` in numpy.
  solution: |
    import numpy as np
    def conv_forward(x, w, b, stride=1, pad=0): ...
  parts:
    - key: forward
      code: conv.forward
      points: 4
      tests:
        - {name: "one image, 3×3 kernel", shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}, pad: 1, points: 1}
        - {name: "a batch, stride 2", shapes: {x: [2, 3, 7, 7], w: [4, 3, 3, 3]}, stride: 2, pad: 1, visibility: hidden}
```

A set is refused when its solution fails a test (`grader check`, an upload: run in the sandbox), and
when the tests of a part cannot catch one of its kind's built-in mistakes and name it (a set whose
convolution tests all have `pad: 0` cannot catch `padding-ignored`), at the part's `tests`.
"""

OWN_CODE_HOMEWORK = """\
## Your own code homework

Any function, any signature, a class, several calls in one test: a code part with a `driver` grades
the homework you already give, and still draws each student's inputs, computes the references from
your solution, judges outside the sandbox and names the mistakes you expect. From a solution to a
checked set, in six steps (the built-in `seed-code-tasks` set is this walk, done four times):

1. **Start from your solution**, the module you would hand out as the answer, as the problem's
   `solution` (`type: code`; `runtime: torch` if it imports torch; `packages: [scipy]` or
   `[matplotlib]` if it needs them and your server offers them). It never reaches students.

   ```yaml
   - id: sobel
     type: code
     text: Write `filter2d(image, kernel)`, zero-padded so the output has the image's size.
     solution: |
       import numpy as np

       def filter2d(image, kernel):
           k = kernel.shape[0]
           padded = np.pad(image, k // 2)
           out = np.zeros(image.shape)
           for i in range(image.shape[0]):
               for j in range(image.shape[1]):
                   out[i, j] = np.sum(padded[i : i + k, j : j + k] * kernel)
           return out
   ```

2. **Write the driver**: the body of a function that calls the student's module `student` as your
   assignment says and ends with `return {NAME: value, ...}`. The test's inputs and settings are
   names in it, with `np` (`torch` on the torch runtime), `printed()` (what the student's code has
   printed so far) and `read_arrays(text)` (the arrays printed in a text). It runs in the sandbox
   beside the student's code; only the returned values leave it. Unpack what the assignment
   returns (`out, cache = student.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})`):
   the grader never guesses.

   ```yaml
     parts:
       - key: filter
         driver: |
           return {"out": student.filter2d(image, kernel)}
   ```

3. **Say what each test draws** (`inputs`): arrays by shape, whose sizes are the test's settings or
   integer arithmetic of them, drawn per student; or a fixed `{value: ...}`, such as the numbers of
   your own worked example. `data: digits` binds handwritten digits split per student (`x_train`,
   `y_train`, `x_test`) for a training task and keeps the labels of `x_test`, `y_test`, for the
   judge; `time` gives a test up to 60 s of wall time.

   ```yaml
         inputs:
           image: {shape: [H, W], low: 0, high: 9, integers: true}
           kernel: {value: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]}
   ```

4. **Say how each output is judged** (`outputs`): `equal` to your solution's (within the part's
   `tolerance`, shapes the same), `shape` alone, a threshold on a number (`{at_most: 0.5}`), or,
   for a training task, the predicted labels against the held-out ones (`{accuracy: y_test,
   at_least: 0.9}`; `{best_of: [first, second]}` for the number of the better of two).

   ```yaml
         outputs: {out: equal}
   ```

5. **Name the mistakes you expect** (`mistakes`): each an edit of your solution (`replace`, found
   exactly once, `with`) or a whole `solution`, with a code from the catalogue below or your own
   and its `feedback`. A student's test is named only when its outputs are that mutant's values
   (NaN and infinities at the same places: a softmax without its max subtracted overflows there
   whoever writes it); a part only when its failing tests agree.

   ```yaml
         mistakes:
           - {code: kernel-flipped, replace: "j : j + k] * kernel)", with: "j : j + k] * kernel[::-1, ::-1])"}
   ```

6. **Write the tests**, then check the set. A test is a name, its settings and its points (and
   `visibility`); put your worked example first, visible. Then run `grader check FILE`: your
   solution runs in the sandbox on the declared draw and on probe students' draws and must pass
   every test; each mistake must fail a visible test on every draw, named there by its code alone
   ("your tests cannot tell `kernel-flipped` from a right answer" otherwise; a mutant that raises
   instead is caught, its student reading the exception, and the check notes it as "caught, but
   never named"); the driver, the solution and each mutant must compile. `grader sets validate
   --mutants FILE` goes further: it makes the usual slips in your solution (`+=` made `=`, a `+ b`
   dropped, a loop bound off by one, `[p:-p]`, `//` made `/`, a flipped kernel) and lists each one
   your tests let through. Upload the file when both are quiet.

   ```yaml
         tests:
           - name: "the worked example's 3×5 image"
             H: 3
             W: 5
             inputs: {image: {value: [[1, 0, 2, 3, 1], [3, 2, 0, 7, 0], [0, 6, 1, 1, 4]]}}
           - {name: "a 6×7 image drawn for you", H: 6, W: 7}
   ```

A student whose code does not fit your driver reads the call that failed, the line of their own
code and what their function returned, never your driver's text nor a hidden test's inputs. The
driver runs in the student's process, but what reaches that process is its code, compiled by the
service, not its text (a comment of yours never leaves the service; the names and constants the
code uses are there, as they must be for it to run), and each test's inputs arrive only when that
test starts. Tests a student reads run first and hidden ones last, so a function that keeps what
it is handed, or looks through its frames for it, finds no hidden test's inputs while a visible
test runs.
"""

DRIVER_TRUST = """\
### What a driver computes, and what the service judges

The driver runs in the student's process, so the student's code can read anything the driver holds
(its names are a walk up the frames away) and change anything it computes (an array whose `==`
always agrees, `numpy.mean` replaced when the module is imported). So a driver calls the student's
code and hands back what came out: arrays, predicted labels, a count of the arrays printed. It may
adapt a signature, unpack a cache, convert a tensor, train the student's network on `x_train` and
predict `x_test`: work whose result the student's own code could have returned as well, so that
faking it gains nothing. It never compares with a right answer nor scores against labels: every
rule is judged by the service on the values returned, which cross the wall as numbers and are
read back as plain numpy arrays; `equal` against your solution's outputs, computed in a run of
their own, and `accuracy` against labels that never enter the sandbox. A threshold on a number the
driver computes (`{at_least: 1}` on the count of arrays printed) holds only as much as that number:
give one where the student gains nothing by making the number up.

For a training task, return the predicted labels and judge them against the held-out ones.
`data: digits` binds `x_train`, `y_train` and `x_test` and keeps `y_test`, the labels of `x_test`,
with the service. The predictions must be one whole-number label per held-out image (scores per
class, a wrong length or numbers that are not whole fail the test with a sentence); the service
counts those equal to the kept labels, and the test passes when their share is at least
`at_least`. `{best_of: [first, second]}` judges a number naming the better of two such outputs
(any of those tied for best). A driver that reads `y_test` is refused at its line, with this form:

```yaml
    parts:
      - key: compare
        data: digits
        time: 60
        driver: |
          net = student.train(torch.from_numpy(x_train), torch.from_numpy(y_train))
          with torch.no_grad():
              return {"pred": net(torch.from_numpy(x_test)).argmax(dim=1)}
        outputs: {pred: {accuracy: y_test, at_least: 0.9}}
        tests:
          - {name: "trained on 1,437 digits, tested on the 360 held out"}
```
"""

WRITTEN_EXAMPLE = """\
Example: a problem asked in words only, its rubric the graders start from.

```yaml
- id: q5
  type: prose
  text: Why does a 1×1 convolution save compute in a bottleneck block?
  parts:
    - key: why
      answer: text
      points: 2
      rubric:
        - {points: 1, text: Reduces the channels before the 3×3 convolution}
        - {points: 1, text: Compares the multiply-adds, note: "e.g. 256→64 channels: 9×64² vs 9×256²"}
        - {points: -0.5, text: Confuses channels with spatial size, key: x}
```
"""

ANCHORS_EXAMPLE = """\
Example: the maps of the detector itself. SSD300's first two levels are outputs of its VGG-16
backbone, named with `from` (its third pooling in ceil mode, as torchvision's `ssd300_vgg16` sets it:
conv4's last convolution, conv4_3, makes 38×38 on 300×300, not 37×37); an FPN's P2–P6 are at strides 4
to 64 of the image, each halving rounding up as torchvision's ResNets do (P6 on 800×800: ⌈800/64⌉ = 13).
The worked solution shows how each map's side was found, the backbone layer by layer; a student's side
off by the backbone's own mistake (`pool-ceil-mode` for 37) or by the other rounding
(`level-side-rounded-down` for 12) is named.

```yaml
- id: ssd
  type: anchors
  title: SSD300's first levels
  head: ssd
  classes: 21
  backbone:
    input: [300, 300, 3]
    blocks:
      convs:
        - {kind: conv, out_channels: $width, kernel: 3, padding: 1}
        - {kind: activation}
    layers:
      - {kind: repeat, name: conv1, times: 2, use: convs, with: {width: 64}}
      - {kind: pool, kernel: 2}
      - {kind: repeat, name: conv2, times: 2, use: convs, with: {width: 128}}
      - {kind: pool, kernel: 2}
      - {kind: repeat, name: conv3, times: 3, use: convs, with: {width: 256}}
      - {kind: pool, kernel: 2, ceil_mode: true}
      - {kind: repeat, name: conv4, times: 3, use: convs, with: {width: 512}}
      - {kind: pool, kernel: 2}
      - {kind: repeat, name: conv5, times: 3, use: convs, with: {width: 512}}
      - {kind: pool, kernel: 3, stride: 1, padding: 1}
      - {kind: conv, name: fc6, out_channels: 1024, kernel: 3, padding: 6, dilation: 6}
      - {kind: conv, name: fc7, out_channels: 1024, kernel: 1}
  levels:
    - {from: conv4, anchors: 4}
    - {from: fc7, anchors: 6}
  parts:
    - {key: side, quantity: grid.1, prompt: The side of conv4_3's map.}
    - {key: boxes, quantity: anchors, prompt: Default boxes on these two maps.}
- id: fpn
  type: anchors
  title: The anchors of Faster R-CNN's FPN
  head: rpn
  input: 800
  levels:
    - {stride: 4, sizes: [32], ratios: [0.5, 1, 2]}
    - {stride: 8, sizes: [64], ratios: [0.5, 1, 2]}
    - {stride: 16, sizes: [128], ratios: [0.5, 1, 2]}
    - {stride: 32, sizes: [256], ratios: [0.5, 1, 2]}
    - {stride: 64, sizes: [512], ratios: [0.5, 1, 2]}
  parts:
    - {key: p6, quantity: grid.5, prompt: The side of P6's map.}
    - {key: anchors, quantity: anchors, prompt: Anchors over the five levels.}
```

A level gives its map one way: `grid`, `from` or `stride`. `from` names an output the backbone has,
`stride` is a power of two of an image the problem knows (`input`, or the backbone's); each is refused at
its line otherwise, with the reason.
"""

CHOICE_EXAMPLE = """\
Example: questions with options, in a problem asked in words. An answer is an option's letter (`"c"`),
or with `multiple` a list of letters (`["a", "c"]`). Staff read the file's letters (`c` is fc below) in
the gradebook, the statistics and the exports; each student is shown the options in an order of their
own, lettered in that order (their `a` is the first they see), answers with those letters and reads them
back, and the service maps them to the file's. With `shuffle` (the default) a student's letters tell
nothing of the file's order: list the options in any order, the right one first if you like.

```yaml
- id: q6
  type: prose
  text: A network of conv1 (3×3, 3→64), a 2×2 max pooling and fc (4096→10).
  parts:
    - key: most
      prompt: Which layer has the most parameters?
      choices:
        - {text: conv1, misconception: input-channels-ignored, feedback: Count 3·3·3·64 + 64.}
        - {text: the pooling layer, feedback: Pooling has no weights.}
        - {text: fc, correct: true}
    - key: learned
      prompt: Which layers have weights?
      multiple: true
      choices:
        - {text: conv1, correct: true}
        - {text: the pooling layer}
        - {text: fc, correct: true}
```
"""

INTRO = """\
# Set files: a reference for authors

<!-- Written by `grader sets reference` from the models in problems/ (a test keeps this page equal
to it): change a description there, then run `grader sets reference > docs/set-files.md`. -->

A set file is YAML: a header, then the problems. A problem entry has an id, a title, a `type`
with that type's parameters, and parts (the questions, one answer key each: `q1.shape`). A set
file holds parameters, never answers: the solvers compute every reference answer.

```yaml
# yaml-language-server: $schema=set-file.schema.json
id: my-convolutions
title: Convolutions by hand
source: Week 3 exercises of my course
problems:
  - id: q1
    title: One convolution layer
    text: >-
      A {input.0}×{input.1}×{input.2} input and {layers.0.out_channels} filters of
      {layers.0.kernel}×{layers.0.kernel}.
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3}
    parts:
      - key: params
        quantity: params.conv
        prompt: Parameters, with bias.
        checks:
          - {answer: 448, status: correct}
          - {mistake: bias-omitted, status: incorrect, misconception: bias-omitted}
```

Check files before you upload them, as the service will: `grader sets validate FILE...` prints
`FILE:LINE:COL: FIELD: MESSAGE` for every issue. `grader sets schema > set-file.schema.json` writes
the JSON Schema that editors with the YAML language server check files against as you type
(the first line of the example points at it).
"""

PLACEHOLDERS = """\
### Placeholders in the text

`{path}` in `text` is replaced by the parameter at that dotted path, in each student's variant:
`{stride}`, `{input.0}` (the first size of `input`), `{layers.7.out_features}` (a setting of the
eighth step). A statement that names its numbers through placeholders cannot disagree with them,
and follows every draw of a randomized set. A placeholder that names no parameter is refused.
Only parameters the entry writes can be named (not defaults it leaves out).
"""

CHECKS = """\
## Self-tests: `checks`

A part may list answers with the verdict each must get; validation (`grader sets validate`, and
the service on upload) grades them and refuses the set, at the check's line, when one comes out
otherwise. A check gives exactly one of:

- `answer`: a literal answer, as a student would type it. It is graded on the **declared
  numbers** only: in a randomized set each variant has its own answers, so a literal is only
  meaningful for the numbers the file declares.
- `mistake`: a mistake code; the answer that mistake computes is graded, on the declared numbers
  **and on every probe variant**, so it tests a randomized set throughout. Any mistake grading can
  name for the part will do: those a solver computes under a mistaken assumption (`bias-omitted`)
  and those seen in the value alone (`macs-vs-flops`: FLOPs given for MACs, or the reverse;
  `reduction-vs-share`). A mistake that does not change the part's answer is refused.

`status` is the verdict it must get (`correct`, `partial`, `incorrect`, `invalid`,
`unanswered`); `misconception`, when given, is the mistake the grade must name.

```yaml
parts:
  - key: params
    quantity: params.conv
    checks:
      - {answer: "3640", status: correct}
      - {answer: "3600", status: incorrect, misconception: bias-omitted}
      - {mistake: bias-omitted, status: incorrect, misconception: bias-omitted}
      - {answer: "many", status: invalid}
```

Besides the declared checks, validation grades every part's own answers on the declared numbers
and on every probe variant: its reference answer must be graded correct, the same answer one
number off must not, and an unreadable answer must be invalid.
"""

VARY = """\
## Randomized sets: `vary`

With `randomized: true` in the header, each student gets their own numbers: an entry's `vary`
maps dotted parameter paths to draws, and the numbers are drawn per student (the same every
time). A draw that leaves an answer undefined is drawn again; validation draws the variants of
eight probe students and refuses a set one of them cannot solve. A draw is exactly one of:

```yaml
vary:
  stride: {choice: [1, 2]}                         # one of the values
  input.0: {int: [28, 64]}                         # a whole number, bounds included
  input.1: {same_as: input.0}                      # the value drawn for another path
  kernel: {matrix: {rows: 3, values: [-1, 2]}}     # a random integer matrix
  layers.0.out_channels: {choice: [8, 16, 32]}
```
"""


POOLS = """\
## Question pools and shuffling: `pool`, `shuffle`

An entry of `problems` may be a pool: each student gets `choose` of its problems, drawn from the
assignment's secret (the same student, the same draw; nobody without the secret can tell which).
With `shuffle: true` in the header, each student sees their problems in an order of their own.

```yaml
shuffle: true
problems:
  - id: intro          # every student gets it
    ...
  - pool:
      choose: 2        # each student gets 2 of these 4
      problems:
        - id: s1
          ...
        - id: s2
          ...
        - id: s3
          ...
        - id: s4
          ...
```

A student's assignment (their page, `GET .../assignments/A`) lists only their problems, and an
answer to a problem not drawn for them is refused. Staff see every problem, and a student's draw
with `?student=ID`; the gradebooks list each student's problems, and the statistics count a key
over the students who drew its problem. Refused, at their line: `choose` below 1 or above the
number of problems the pool holds, an empty pool, a pool inside a pool, a problem of a pool whose
id is used by another entry of the set, problems of one pool worth different points (every
student's assignment is worth the same), and a part building on a part of a pooled problem other
than its own (`@KEY`: a student who did not draw it has no such part). Practice on fresh
variants, never counted, offers every problem of the pools. See `examples/pooled-quiz.yaml`.
"""


def reference_page() -> str:
    """The whole page, as Markdown."""
    sections = [
        INTRO,
        "## The header\n\n" + _table(SetHeader),
        "## A problem entry\n\n" + _doc(EntryFields) + "\n\n" + _table(EntryFields) + "\n" + PLACEHOLDERS,
        _parts(),
        OWN_CODE_HOMEWORK + "\n" + DRIVER_TRUST,
        CHECKS,
        VARY + "\n" + _model_section("`Draw`", Draw, 3) + _model_section("`matrix`", MatrixDraw, 3),
        POOLS + "\n" + _model_section("`pool`", PoolSpec, 3),
        _problem_types(),
        quantity_table(EXAMPLES),
        _steps(),
        _budgets(),
        _mistakes(),
    ]
    return "\n".join(section.rstrip() + "\n" for section in sections)


def _parts() -> str:
    kinds = ", ".join(f"`{kind.value}`" for kind in AnswerKind)
    layouts = ", ".join(f"`{layout.value}`" for layout in Layout)
    return (
        "## Parts\n\n"
        + _table(Part)
        + f"\nAnswer kinds: {kinds}. Layouts: {layouts}.\n\n"
        + _model_section("`tolerance`", Tolerance, 3)
        + _model_section("An operation", Operation, 3)
        + "Short form: `{sum: ['@q1.params', '@q2.params']}` is `{op: sum, operands: [...]}`.\n\n"
        + _model_section("A written part (`answer: text`)", WrittenPart, 3)
        + _model_section("A rubric item", RubricItemTemplate, 3)
        + WRITTEN_EXAMPLE
        + "\n"
        + _model_section("A code part (`code: KIND`)", CodePart, 3)
        + _model_section("A test of a code part", CodeTest, 3)
        + _model_section("`values` (of a test)", Values, 3)
        + _model_section("An input drawn (of `inputs`, a driver's part or test)", ArrayInput, 3)
        + _model_section("An input given (of `inputs`: `{value: ...}`)", FixedInput, 3)
        + _model_section("`tolerance` (of a code part)", CodeTolerance, 3)
        + _code_kinds()
        + CODE_EXAMPLE
        + "\n"
        + _model_section("A choice part (`choices: [...]`)", ChoicePart, 3)
        + _model_section("An option (of a choice part)", ChoiceOption, 3)
        + CHOICE_EXAMPLE
    )


def _code_kinds() -> str:
    """Every reference kind: its function, its arrays, its settings and the mistakes its tests must catch."""
    lines = [
        "### Reference kinds\n",
        "| kind | function | arrays (`shapes`) | settings | mistakes the tests must catch |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, kind in sorted(KINDS.items()):
        arrays = ", ".join(f"`{array}` (rank {rank})" for array, rank in kind.arrays.items())
        settings = "; ".join(
            f"`{field}`: {_cell((info.description or '').rstrip('.'))}"
            for field, info in kind.settings_model.model_fields.items()
        )
        mutants = ", ".join(f"`{code}`" for code in kind.mutants) or "none"
        lines.append(f"| `{name}` | `{kind.signature}` | {arrays} | {settings or 'none'} | {mutants} |")
    return "\n".join(lines) + "\n\n"


def _problem_types() -> str:
    lines = ["## Problem types\n"]
    for name, model in BY_TYPE.items():
        lines.append(f"### `type: {name}`\n")
        lines.append(_doc(model) + "\n")
        lines.append(_table(model, skip={"type"}))
        example = {"type": name, **EXAMPLES[name]}
        lines.append("Example:\n\n```yaml\n" + _yaml(example) + "```\n")
        quantities = SPEC.validate_python(example).solve()
        if quantities:
            named = ", ".join(f"`{q}` ({found.kind.value})" for q, found in quantities.items())
            lines.append(f"Quantities of this example: {named}.\n")
        elif name == "prose":
            lines.append("No quantities: its parts are written answers (`answer: text`).\n")
        elif name == "code":
            lines.append("No quantities: its parts are code parts (`code: KIND`), and written ones.\n")
        else:
            lines.append("No quantities of its own: its parts are operations on other answers.\n")
        if name == "anchors":
            lines.append(ANCHORS_EXAMPLE)
    return "\n".join(lines)


def _steps() -> str:
    lines = [
        "## Network steps\n",
        "The steps of a `network`'s `layers`, by `kind`: layers, and the blocks and repeats that "
        "group them. Every step takes `name`, `group` and `from`.\n",
    ]
    for model in (*typing.get_args(LayerKinds), Block, Repeat):
        kind = model.model_fields["kind"].annotation
        names = " or ".join(f"`kind: {k}`" for k in typing.get_args(kind))
        lines.append(f"### {names}\n")
        if model.__doc__:
            lines.append(_doc(model) + "\n")
        lines.append(_table(model, skip={"kind", "name", "group", "sources"}) or "No settings.\n")
    lines.append(_model_section("`until`", Until, 3))
    lines.append(_model_section("`stored` (of a network)", StoredValues, 3))
    lines.append(_model_section("A level of `anchors`", AnchorLevel, 3))
    return "\n".join(lines)


def _budgets() -> str:
    """The budgets of ``problems.budgets``, as an author meets them."""
    b = budgets
    rows = [
        ("the characters of a set file", f"{b.MAX_TEXT:,}", "The whole file."),
        ("nesting", f"{b.MAX_DEPTH} levels", "Mappings and lists inside each other, from the top of the file."),
        (
            "the nodes of a set file",
            f"{b.MAX_NODES:,}",
            "Keys, values and list items; an alias (`*name`) counts as the nodes it repeats, and the "
            "`use` of a network's block as the values it makes.",
        ),
        ("the parts of a set", f"{b.MAX_PARTS}", "Parts of all its problems."),
        ("the checks of a set", f"{b.MAX_CHECKS}", "Self-tests (`checks`) of all its parts."),
        ("references between parts", f"{b.MAX_REFERENCES}", "A chain of operations on other answers (`@key`)."),
        (
            "a map's side",
            f"{b.MAX_SIDE:,} pixels",
            "A network's input and every map its layers make; `until`'s size, an upsampling or "
            "adaptive pooling `size`, a `pad`; YOLO's grid and input size.",
        ),
        (
            "a layer's units",
            f"{b.MAX_UNITS:,}",
            "Channels and units: `out_channels`, `out_features`, a network's input channels or flat "
            "size, every layer's output channels; YOLO's classes, boxes and anchors.",
        ),
        ("a window's settings", f"{b.MAX_WINDOW:,}", "`kernel`, `stride`, `dilation` and `padding`, per axis."),
        ("an upsampling factor", f"{b.MAX_SCALE}", "`scale` of `upsample`."),
        ("a network's batch", f"{b.MAX_BATCH:,} images", "`batch` of a `network`."),
        (
            "the layer instances of a network",
            f"{b.MAX_LAYERS:,}",
            "Layers once its repeats are stacked: `times` instances of a block of 10 layers are 10·`times` "
            "(nested repeats multiply); a repeat `until` a size stacks at most as many as fit.",
        ),
        (
            "the elements of a matrix",
            f"{b.MAX_ELEMENTS:,}",
            "An image problem's input, kernel (once per input channel), filters and output, and a drawn "
            "`matrix` (its largest rows × cols × channels): the most a student's answer may have.",
        ),
        (
            "the work of an image problem",
            f"{b.MAX_MACS:,}",
            "Multiply-accumulates of a convolution (or pixels a pooling reads), its padded input counted too.",
        ),
        ("the tests of a code part", f"{MAX_TESTS}", "Each is one call in the part's run in the sandbox."),
        (
            "the code tests of a set",
            f"{MAX_CALLS}",
            "Tests of all its code parts: the calls of one submission (the sandbox's limit on a run).",
        ),
        ("an input of a code test", f"{CODE_ELEMENTS:,} elements", "Each array whose `shapes` a test gives."),
        (
            "the work of a code test",
            f"{CODE_WORK:,}",
            "Multiply-adds of the test's reference (and of each of its kind's mistakes).",
        ),
        ("the work of a set's code tests", f"{MAX_SET_WORK:,}", "The work of all its code tests together."),
        (
            "checking a set",
            f"{b.MAX_WORK:,} steps",
            f"Solving the set on its declared numbers and every probe variant: a layer instance of a network "
            f"is {b.STEPS_PER_LAYER} steps; an image problem 1 step, and 1 more per "
            f"{b.MACS_PER_STEP:,} multiply-accumulates, per {b.OUTPUTS_PER_STEP} output elements and per "
            f"{b.WINDOWS_PER_STEP} pooling windows.",
        ),
    ]
    table = "\n".join(f"| {name} | {limit} | {_cell(text)} |" for name, limit, text in rows)
    return (
        f"## Budgets\n\nWhat a set file may ask of the service is bounded, so that checking any file takes a "
        "second or two. The limits are far above a course's sets (the built-in ones, ResNet-152 on 224×224); "
        "a file over one is refused at the line where it goes over, naming the budget (`... is over the "
        f"budget for a map's side ({b.MAX_SIDE:,})`).\n\n| budget | limit | what it bounds |\n| --- | --- | --- |\n"
        + table
        + "\n"
    )


def _mistakes() -> str:
    rows = "\n".join(f"| `{code}` | {_cell(text)} |" for code, text in sorted(EXPLANATIONS.items()))
    return (
        "## Mistake codes\n\nThe codes a check's `mistake` and `misconception` name, with what a student "
        "reads when their answer matches one.\n\n| code | feedback |\n| --- | --- |\n" + rows + "\n"
    )


def _model_section(title: str, model: type[BaseModel], level: int) -> str:
    return f"{'#' * level} {title}\n\n{_doc(model)}\n\n{_table(model)}\n"


def _doc(model: type[BaseModel]) -> str:
    """The class docstring as Markdown (reST literals become code)."""
    text = (model.__doc__ or "").strip()
    blocks = [block for block in text.split("\n\n") if not block.strip().startswith(">>>")]  # doctests
    paragraphs = [" ".join(line.strip() for line in block.splitlines()) for block in blocks]
    return "\n\n".join(paragraphs).replace("``", "`")


def _table(model: type[BaseModel], skip: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    rows = [
        f"| `{info.alias or name}` | {_cell(_type(info.annotation))} | {_default(info)} | "
        f"{_cell(info.description or '')} |"
        for name, info in model.model_fields.items()
        if name not in skip
    ]
    if not rows:
        return ""
    return "| field | type | default | description |\n| --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, BaseModel):  # a nested setting's defaults (a network's `stored`)
        value = value.model_dump()
    return f"`{yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}`"


def _type(annotation: Any) -> str:
    """A type as an author reads it: `int | [int, int]`, `'max' | 'avg'`, a list of parts."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation == Matrix:
        return "matrix"
    if origin in (typing.Union, types.UnionType) and set(args) == {int, float}:
        return "number"
    if origin in (typing.Union, types.UnionType) and len(args) > 4 and all(isinstance(a, type) for a in args):
        return "step" if Block in args else "layer"  # the union of network steps
    if origin is typing.Annotated:
        return _type(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(dict.fromkeys(_type(a) for a in args if a is not type(None)))
    if origin is typing.Literal:
        return " | ".join(f"`{a}`" if isinstance(a, str) else str(a) for a in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is tuple:
        inner = [_type(a) for a in args if a is not Ellipsis]
        return f"list of {inner[0]}" if Ellipsis in args else "[" + ", ".join(inner) + "]"
    if origin is dict:
        return f"mapping of {_type(args[0])} to {_type(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    names = {int: "integer", float: "number", str: "string", bool: "boolean"}
    if annotation in names:
        return names[annotation]
    text = getattr(annotation, "__name__", None) or str(annotation)
    return {"JsonValue": "any", "Any": "any", "Step": "step", "Layer": "layer"}.get(text, text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _yaml(data: dict[str, Any]) -> str:
    """A set file's way of writing parameters: block mappings, flow lists and flow rows."""
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            lines += [f"  - {_flow(item)}" for item in value]
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _flow(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000, sort_keys=False).strip().removesuffix("...").strip()
    )
