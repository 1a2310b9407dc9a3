"""Worked solutions of a set variant: per answer key, the steps its solver wrote while computing
the reference (``Problem.derivations``), or those of a part computed from other answers, ending
on the value in the part's own kind and layout."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from problems.kinds import AnswerKind
from problems.parts import Operation, Part
from problems.render import to_json, to_text
from problems.sets import Answer, Problem, ProblemSet, SolveError
from problems.solvers.steps import Derivations, Step, Steps, number_tex, number_text

#: How an operation is written between its operands.
SIGNS = {"sum": (" + ", " + "), "product": (" × ", r" \times "), "difference": (" − ", " - ")}


def solutions(problem_set: ProblemSet, student: str | None = None, mistake: str | None = None) -> dict[str, Steps]:
    """The steps of every key of this student's variant; with ``mistake``, the steps that mistake
    takes where the problem type can say (elsewhere the reference's). A part whose quantity has no
    steps is left out (:func:`step_issues` names it: the self-test refuses such a set)."""
    chosen = problem_set.variant(student)
    answers = problem_set.solve(student, mistake)
    found: dict[str, Steps] = {}
    for problem in chosen.problems:
        for part in problem.parts:
            key = problem.key(part)
            if key not in answers:
                continue
            try:
                found[key] = _presented(_part_steps(problem, part, answers, mistake), answers[key])
            except SolveError:  # a quantity without steps: left out here, refused by step_issues
                continue
    return found


def _part_steps(problem: Problem, part: Part, answers: dict[str, Answer], mistake: str | None) -> Steps:
    """The part's own steps, before they are written in its kind and layout."""
    if isinstance(part.quantity, Operation):
        return _operation(part.quantity, problem, answers, mistake)
    return _quantity_steps(problem, part.quantity, mistake)


def _quantity_steps(problem: Problem, quantity: str, mistake: str | None) -> Steps:
    if mistake is not None:
        changed = problem.mistaken_derivations.get(mistake, Derivations())
        if quantity in changed:
            return changed[quantity]
    try:
        return problem.derivations[quantity]
    except KeyError:
        raise SolveError(f"{problem.id}: the quantity {quantity!r} has no worked steps") from None


def _presented(steps: Steps, answer: Answer) -> Steps:
    """The steps, ending on the answer as the part asks for it (its layout, its kind)."""
    value = to_json(answer.kind, answer.value)
    if steps and steps[-1].value == value:
        return steps
    written = to_text(answer.kind, answer.value)
    if answer.kind in (AnswerKind.SHAPE, AnswerKind.SHAPE_LIST):
        layout = "×".join(answer.part.layout.value)
        return (*steps, Step(f"Written in the order {layout}: {written}", value=value))
    return (*steps, Step(f"The answer: {written}", value=value))


def _operation(op: Operation, problem: Problem, answers: dict[str, Answer], mistake: str | None) -> Steps:
    """Each operand's value, then the arithmetic on them."""
    lines: list[Step] = []
    text, tex, value = _written(op, problem, answers, mistake, lines)
    lines.append(Step(f"{text} = {number_text(value)}", f"{tex} = {number_tex(value)}", _number(value)))
    return tuple(lines)


def _written(
    op: Operation, problem: Problem, answers: dict[str, Answer], mistake: str | None, lines: list[Step]
) -> tuple[str, str, Any]:
    texts: list[str] = []
    texes: list[str] = []
    values: list[Any] = []
    quantities = problem.quantities_under(mistake)
    for operand in op.operands:
        if isinstance(operand, Operation):
            text, tex, value = _written(operand, problem, answers, mistake, lines)
            text, tex = f"({text})", rf"\left({tex}\right)"
        else:
            if isinstance(operand, int):
                value = operand
            elif operand.startswith("@"):
                value = answers[operand[1:]].value
                lines.append(Step(f"{operand[1:]} = {number_text(value)} (that part's answer)", value=_number(value)))
            else:
                value = quantities[operand].value
                lines.append(Step(f"{operand} = {number_text(value)}", value=_number(value)))
            text, tex = number_text(value), number_tex(value)
        texts.append(text)
        texes.append(tex)
        values.append(value)
    result = op.apply(values)
    if op.op in SIGNS:
        plain, signed = SIGNS[op.op]
        return plain.join(texts), signed.join(texes), result
    if op.op == "ratio":
        return f"{texts[0]} / {texts[1]}", rf"\frac{{{texes[0]}}}{{{texes[1]}}}", result
    return (
        f"reduction = 100·(1 − {texts[1]}/{texts[0]})",
        rf"100 \cdot \left(1 - \frac{{{texes[1]}}}{{{texes[0]}}}\right)",
        result,
    )


def _number(value: Any) -> int | float:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return int(value) if float(value).is_integer() else float(value)


def step_issues(problem_set: ProblemSet, student: str | None = None) -> dict[str, str]:
    """Per key, what is wrong with its worked steps on this variant: none, or a last step whose
    value is not the reference (checked on every set, built in or uploaded, by the self-test)."""
    answers = problem_set.solve(student)
    issues = {}
    for problem in problem_set.variant(student).problems:
        for part in problem.parts:
            key = problem.key(part)
            if key not in answers:  # a part without a reference (free response): nothing to work out
                continue
            try:
                steps = _part_steps(problem, part, answers, None)
            except SolveError as error:
                issues[key] = str(error)
                continue
            # the steps end on the value as the solver computed it (before the part's layout)
            if isinstance(part.quantity, Operation):
                value = to_json(answers[key].kind, answers[key].value)
            else:
                quantity = problem.quantities[part.quantity]
                value = to_json(quantity.kind, quantity.value)
            if not steps:
                issues[key] = "its quantity has no worked steps"
            elif steps[-1].value != value:
                issues[key] = f"its worked steps end on {steps[-1].value!r}, not the reference {value!r}"
    return issues


def parting_step(
    problem_set: ProblemSet, key: str, mistake: str, student: str | None = None
) -> tuple[int, Step] | None:
    """Where the steps ``mistake`` takes for ``key`` first differ from the reference's: the step's
    number (from 1) and the mistaken step; None where the type does not model that mistake's steps."""
    chosen = problem_set.variant(student)
    owner = next((p for p in chosen.problems for part in p.parts if p.key(part) == key), None)
    if owner is None:
        return None
    part = next(part for part in owner.parts if owner.key(part) == key)
    if isinstance(part.quantity, str) and part.quantity not in owner.mistaken_derivations.get(mistake, {}):
        return None
    try:  # this part's steps alone: the grader asks on the way, for one wrong answer
        right = _part_steps(owner, part, problem_set.solve(student), None)
        wrong = _part_steps(owner, part, problem_set.solve(student, mistake), mistake)
    except (SolveError, KeyError):
        return None
    for number, (ours, theirs) in enumerate(zip(right, wrong, strict=False), start=1):
        if ours.text != theirs.text or ours.value != theirs.value:
            return number, theirs
    return None
