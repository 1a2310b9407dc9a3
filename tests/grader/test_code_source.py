"""A code answer's text read as a module before anything runs: a notebook's code cells joined in
order, its shell and magic lines refused with their cell and line, a syntax error refused with
its line (in a notebook, its cell's), the size limit, blank answers unanswered."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader.code.source import MAX_SOURCE_BYTES, NOT_TEXT, Refused, read_source


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
        ("!pip install torch", "a shell command"),
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
