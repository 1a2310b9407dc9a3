"""A code answer's text read as a module before anything runs: a notebook's code cells joined in
order, its ``%matplotlib`` and ``!pip`` lines set aside with a note (which the part's feedback
carries, queued and graded), its other shell and magic lines refused with their cell and line, a
syntax error refused with its line (in a notebook, its cell's), the size limit, blank answers
unanswered."""

from __future__ import annotations

import json
from collections.abc import Sequence

import nbformat
import pytest

from grader.code import QUEUED, grade_code, received
from grader.code.source import MAX_SOURCE_BYTES, NOT_TEXT, Refused, read_module, read_source
from grader.results import Status
from problems.loader import load_bank
from sandbox import Call, CallResult
from sandbox import Status as CallStatus


def _notebook(*cells: tuple[str, str]) -> str:
    notebook = nbformat.v4.new_notebook()
    for kind, source in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        notebook.cells.append(cell)
    return nbformat.writes(notebook)


def test_a_module_is_taken_as_it_is() -> None:
    source = "import numpy as np\n\ndef f(x):\n    return x\n"
    assert read_source(source) == source


@pytest.mark.parametrize("raw", [None, "", "   \n\t"])
def test_a_blank_answer_is_unanswered(raw: str | None) -> None:
    assert read_source(raw) is None


@pytest.mark.parametrize("raw", [3, ["def f(): pass"], {"source": "x"}, True])
def test_an_answer_that_is_not_text_is_refused(raw: object) -> None:
    assert read_source(raw) == Refused(NOT_TEXT)  # type: ignore[arg-type]


def test_a_notebooks_code_cells_are_joined_in_order_without_its_prose() -> None:
    raw = _notebook(
        ("markdown", "# Convolution\nWe slide the kernel."),
        ("code", "import numpy as np"),
        ("markdown", "Now the function:"),
        ("code", "def conv_forward(x, w, b, stride=1, pad=0):\n    return np.zeros(1)"),
    )
    source = read_source(raw)
    assert isinstance(source, str)
    assert "We slide" not in source and "Now the function" not in source
    assert source.index("import numpy") < source.index("def conv_forward")
    compile(source, "joined", "exec")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("!wget https://example.org/data.npz", "a shell command"),
        ("%timeit conv_forward(x, w, b)", "an IPython magic"),
        ("%%time", "an IPython magic"),
        ("    !ls", "a shell command"),
    ],
)
def test_shell_and_magic_lines_are_refused_with_their_cell_and_line(line: str, what: str) -> None:
    raw = _notebook(("code", "import numpy as np"), ("markdown", "text"), ("code", f"x = 1\n{line}\ny = 2"))
    found = read_source(raw)
    assert isinstance(found, Refused)
    assert f"Code cell 2, line 2 is {what}" in found.reason
    assert line.strip()[:20] in found.reason


def test_a_syntax_error_is_refused_with_its_line_before_anything_runs() -> None:
    found = read_source("import numpy as np\n\ndef f(x:\n    return x\n")
    assert isinstance(found, Refused)
    assert "nothing was run" in found.reason and "SyntaxError" in found.reason and "(line 3)" in found.reason


def test_a_notebooks_syntax_error_names_its_cell_and_line() -> None:
    found = read_source(_notebook(("code", "import numpy as np\nx = 1"), ("code", "def f(:\n    pass")))
    assert isinstance(found, Refused)
    assert "(code cell 2, line 1)" in found.reason


def test_a_module_over_the_size_limit_is_refused() -> None:
    found = read_source("x = 1\n" + "#" * MAX_SOURCE_BYTES)
    assert isinstance(found, Refused)
    assert "at most 1,048,576" in found.reason


@pytest.mark.parametrize(
    "raw", ['{"cells": 3}', "{not json", json.dumps({"nbformat": 4, "cells": [{"cell_type": "code"}]})]
)
def test_a_broken_notebook_is_refused_with_a_sentence(raw: str) -> None:
    found = read_source(raw)
    assert isinstance(found, Refused)
    assert found.reason.startswith(("This looks like a notebook", "This notebook"))


def test_a_notebook_without_code_is_refused() -> None:
    found = read_source(_notebook(("markdown", "only prose")))
    assert found == Refused("This notebook has no code cells.")


def test_nested_too_deep_to_compile_is_refused_not_raised() -> None:
    found = read_source("x = " + "(" * 5000 + ")" * 5000)
    assert isinstance(found, Refused)
    assert "nothing was run" in found.reason


def _run_raising(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
    """A run without a sandbox: every call raised (the judge needs no more to grade the part)."""
    compile(source, "student", "exec")  # what the sandbox is handed is a module that compiles
    return [CallResult(CallStatus.ERROR, message="NameError: name 'plt' is not defined") for _ in calls]


NOTE = (
    "Set aside from your notebook, as not Python: code cell 1, line 1 `%matplotlib inline` and code cell 2, "
    "line 2 `!pip install scipy` (plots are never shown here; the grader's packages are fixed, so nothing is "
    "installed)."
)
SET_ASIDE = _notebook(
    ("code", "%matplotlib inline\nimport numpy as np"),
    ("markdown", "prose"),
    ("code", "x = 1\n!pip install scipy\ny = 2"),
)


def test_matplotlib_and_pip_lines_are_set_aside_with_a_note_naming_their_cell_and_line() -> None:
    source, note = read_module(SET_ASIDE)
    assert isinstance(source, str)
    assert "%matplotlib" not in source and "pip" not in source
    assert source.splitlines()[:6] == ["", "import numpy as np", "", "x = 1", "", "y = 2"]
    assert note == NOTE
    assert read_source(SET_ASIDE) == source


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("%matplotlib", "plots are never shown here"),
        ("%matplotlib notebook  ", "plots are never shown here"),
        ("%pip install torch", "nothing is installed"),
        ("!pip3 install -q scipy", "nothing is installed"),
        ("!pip", "nothing is installed"),
    ],
)
def test_each_set_aside_form_is_named_with_why(line: str, why: str) -> None:
    source, note = read_module(_notebook(("code", f"x = 1\n{line}")))
    assert isinstance(source, str)
    assert note.startswith(f"Set aside from your notebook, as not Python: code cell 1, line 2 `{line.strip()}` (")
    assert why in note


def test_a_set_aside_line_keeps_every_later_line_at_its_cell_and_line() -> None:
    raw = _notebook(("code", "%matplotlib inline\n!pip install scipy\nimport numpy as np"), ("code", "x = 1\ndef f(:"))
    found = read_source(raw)
    assert isinstance(found, Refused)
    assert "(code cell 2, line 2)" in found.reason
    assert read_module(raw) == (found, "")  # no note with a refusal: nothing runs


def test_an_indented_set_aside_line_leaves_its_block_compiling() -> None:
    raw = _notebook(
        ("code", "import sys\nif sys.platform:\n    %matplotlib inline\nelse:\n    !pip install scipy\nx = 1")
    )
    source, note = read_module(raw)
    assert isinstance(source, str)
    assert source.splitlines()[:6] == ["import sys", "if sys.platform:", "    pass", "else:", "    pass", "x = 1"]
    compile(source, "joined", "exec")
    assert "code cell 1, line 3 `%matplotlib inline`" in note and "code cell 1, line 5 `!pip install scipy`" in note


def test_a_note_names_five_lines_then_counts_the_rest() -> None:
    source, note = read_module(_notebook(("code", "\n".join(["%matplotlib inline"] * 7 + ["x = 1"]))))
    assert isinstance(source, str)
    assert note == (
        "Set aside from your notebook, as not Python: code cell 1, line 1 `%matplotlib inline`, code cell 1, line 2 "
        "`%matplotlib inline`, code cell 1, line 3 `%matplotlib inline`, code cell 1, line 4 `%matplotlib inline`, "
        "code cell 1, line 5 `%matplotlib inline` and 2 more (plots are never shown here)."
    )


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("%timeit x", "an IPython magic"),
        ("!ls", "a shell command"),
        ("% matplotlib notebook", "an IPython magic"),
        ("%matplotlibx", "an IPython magic"),
        ("!python -m pip install scipy", "a shell command"),
        ("!pipx install ruff", "a shell command"),
    ],
)
def test_other_magics_and_shell_lines_are_still_refused_beside_set_aside_ones(line: str, what: str) -> None:
    raw = _notebook(("code", "%matplotlib inline\nx = 1"), ("code", f"y = 2\n{line}"))
    found, note = read_module(raw)
    assert isinstance(found, Refused) and note == ""
    assert f"Code cell 2, line 2 is {what} (`{line}`), which is not Python" in found.reason


def test_set_aside_is_a_notebook_rule_a_module_with_a_magic_does_not_compile() -> None:
    found, note = read_module("%matplotlib inline\nimport numpy as np\n")
    assert isinstance(found, Refused) and note == ""
    assert "nothing was run" in found.reason and "(line 1)" in found.reason


def test_a_notebook_without_set_aside_lines_has_no_note() -> None:
    source, note = read_module(_notebook(("code", "import numpy as np")))
    assert isinstance(source, str) and note == ""


def test_the_note_reaches_the_student_queued_and_graded() -> None:
    code_set = load_bank()["numpy-convolution"]
    key = "conv.forward"
    queued = received(key, code_set.code()[key], SET_ASIDE)
    assert (queued.status, queued.feedback) == (Status.QUEUED, f"{QUEUED} {NOTE}")
    part = grade_code(code_set, {key: SET_ASIDE}, student="s7", run=_run_raising, keys=[key])[key]
    assert part.status is Status.INCORRECT and part.tests
    assert part.feedback.endswith(f". {NOTE}")
    plain = grade_code(code_set, {key: "x = 1\n"}, student="s7", run=_run_raising, keys=[key])[key]
    assert NOTE not in plain.feedback and "Set aside" not in plain.feedback
