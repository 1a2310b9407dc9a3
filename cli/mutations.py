"""``grader sets validate --mutants``: mutation testing of a set's code tests. The standard slips
students make are applied to the instructor's solution one at a time, on its syntax tree (an
accumulation ``+=`` made ``=``, a ``+ b`` term dropped, a loop bound off by one, a crop
``[p : p + n]`` written ``[p:-p]`` (empty at ``p = 0``), ``//`` made ``/``, a kernel flipped),
and each mutant is graded like a student's module through the sandbox; one that passes every test
of its problem is listed: the tests cannot tell it from the solution.

The solution is the instructor's own text, parsed here offline (the command line, never the
service); the mutants run only in the sandbox, through the same ``run`` as ``grader check``.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from grader.code import grade_code
from grader.code.references import Run
from grader.results import Status
from problems.sets import ProblemSet

#: Mutants tried per problem (a long solution has hundreds of sites; the first ones are listed).
MAX_MUTANTS = 80


@dataclass(frozen=True)
class Mutant:
    """One standard mutation of a solution: what it does, where (a line of the solution), the module."""

    what: str
    line: int
    source: str
    #: The function the mutation is in ("" at the module's top level).
    function: str = ""


def _sites(tree: ast.Module) -> Iterator[tuple[str, ast.AST, Callable[[ast.AST], ast.AST | None]]]:
    """Each place a standard mutation applies: what it is, the node, and the node's replacement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            yield "`+=` made `=`", node, _assigned
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield "a `+ b` term dropped", node, _left
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.FloorDiv):
            yield "`//` made `/`", node, _divided
        if _is_range(node):
            yield "a loop bound off by one", node, _range_shortened
        if isinstance(node, ast.Slice) and _crop(node):
            yield "a crop written `[p:-p]`", node, _minus_crop
        if isinstance(node, ast.FunctionDef) and _weights(node) is not None:
            yield "a kernel flipped", node, _flipped


def _assigned(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.AugAssign)
    return ast.Assign([node.target], node.value, lineno=node.lineno)


def _left(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.BinOp)
    return node.left


def _divided(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.BinOp)
    return ast.BinOp(node.left, ast.Div(), node.right)


def _is_range(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and len(node.args) == 1
    )


def _range_shortened(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Call)
    return ast.Call(node.func, [ast.BinOp(node.args[0], ast.Sub(), ast.Constant(1))], [])


def _crop(node: ast.Slice) -> bool:
    """``[p : p + n]`` (a padding cropped off), whose ``[p:-p]`` form is empty at ``p = 0``."""
    lower, upper = node.lower, node.upper
    return (
        isinstance(lower, ast.Name)
        and isinstance(upper, ast.BinOp)
        and isinstance(upper.op, ast.Add)
        and isinstance(upper.left, ast.Name)
        and upper.left.id == lower.id
    )


def _minus_crop(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.Slice) and node.lower is not None
    return ast.Slice(node.lower, ast.UnaryOp(ast.USub(), copy.deepcopy(node.lower)), node.step)


def _weights(node: ast.FunctionDef) -> str | None:
    """The function's parameter holding a kernel (``w``), if it has one."""
    return next((arg.arg for arg in node.args.args if arg.arg in {"w", "weights", "kernel"}), None)


def _flipped(node: ast.AST) -> ast.AST:
    """The function with its kernel flipped on entry (``w = w[..., ::-1, ::-1]``): the
    convolution-versus-cross-correlation slip."""
    assert isinstance(node, ast.FunctionDef)
    name = _weights(node)
    assert name is not None
    flip = ast.Slice(None, None, ast.UnaryOp(ast.USub(), ast.Constant(1)))
    index = ast.Tuple([ast.Constant(Ellipsis), flip, copy.deepcopy(flip)], ast.Load())
    statement = ast.Assign([ast.Name(name, ast.Store())], ast.Subscript(ast.Name(name, ast.Load()), index, ast.Load()))
    changed = copy.copy(node)
    changed.body = [statement, *node.body]
    return changed


def mutants(solution: str) -> list[Mutant]:
    """The standard mutants of ``solution``, one mutation each, distinct, in the order of the text."""
    tree = ast.parse(solution)
    found: dict[str, Mutant] = {}
    sites = list(_sites(tree))
    for number, (what, node, _) in enumerate(sites):
        changed = ast.parse(solution)
        target_what, target, replace = list(_sites(changed))[number]
        assert target_what == what
        replacement = replace(target)
        if replacement is None:
            continue
        _swap(changed, target, replacement)
        try:
            text = ast.unparse(ast.fix_missing_locations(changed))
        except (ValueError, TypeError, AttributeError):
            continue
        if text != ast.unparse(tree) and text not in found:
            line = getattr(node, "lineno", 0)
            found[text] = Mutant(what, line, text, _enclosing(tree, line))
        if len(found) >= MAX_MUTANTS:
            break
    return sorted(found.values(), key=lambda mutant: mutant.line)


def _enclosing(tree: ast.Module, line: int) -> str:
    """The innermost function of ``tree`` that holds ``line``."""
    holding = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return max(holding, key=lambda node: node.lineno).name if holding else ""


def _swap(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    """Put ``new`` where ``old`` is in ``tree``."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if item is old:
                        value[index] = new
                        return


def uncaught(problem_set: ProblemSet, run: Run) -> list[tuple[str, Mutant]]:
    """Each standard mutant of each code problem's solution that passes every test of the problem's
    code parts (on the set's own draw), with the problem's id."""
    found = []
    for problem in problem_set.problems:
        keys = [f"{problem.id}.{part.key}" for part in problem.code if part.module is None]
        if not keys:
            continue
        solution = problem_set.solution_of(keys[0])
        for mutant in mutants(solution):
            graded = grade_code(problem_set, dict.fromkeys(keys, mutant.source), student=None, run=run, keys=keys)
            if all(part.status is Status.CORRECT for part in graded.values()):
                found.append((problem.id, mutant))
    return found
