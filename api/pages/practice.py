"""Practice on fresh variants: a student asks for a new variant of the assignment's problems (a
fixed set's are the same every time), answers with the same reading and feedback as the graded
page, and sees the worked solution once answered. Nothing is stored: the variant comes from the
seed in the page's address and form, so nothing reaches the gradebook, the statistics or the LMS.

Open under the assignment's ``practice`` setting and the student's own terms
(:func:`api.terms.rules.practice_open`: by default once their due date has passed; on a
fixed set, whose one variant is the graded one, only once its answers are released). A
practice variant is keyed ``practice:N``, which no graded variant (an HMAC, a student id, or an
offline ``seed:N``) can be.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments.service import statements
from api.db import reads_only
from api.deps import SetsDep, problem_set_of
from api.library import Sets
from api.pages.deps import CsrfChecked, PageMember, PageTerms
from api.pages.notation import needs_math
from api.pages.render import render
from api.pages.routing import PageRoute
from api.submissions.service import grading
from api.terms.rows import Terms
from api.terms.standing import practice_open_to
from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from problems.sets import ProblemSet

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PRACTICE = "/courses/{course_id}/assignments/{assignment_id}/practice"
#: Seeds are drawn below this (the address stays short).
SEEDS = 2**31


def practice_variant(problem_set: ProblemSet, seed: int) -> str | None:
    """The variant a practice seed draws (None for a fixed set: its one variant)."""
    return f"practice:{seed}" if problem_set.randomized else None


@router.get(PRACTICE)
def practice_page(
    request: Request,
    member: PageMember,
    terms: PageTerms,
    sets: SetsDep,
    seed: Annotated[int | None, Query(ge=0, lt=SEEDS)] = None,
    problem: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The problems of one practice variant (``problem``: that one alone); without a seed, a fresh
    one (a redirect to it)."""
    problem_set = problem_set_of(terms, sets)
    if not practice_open_to(sets.session, terms=terms, student_id=member.id, randomized=problem_set.randomized):
        return _closed(request, terms, problem_set)
    if seed is None:
        only = "" if problem is None else f"&problem={quote(problem)}"
        return RedirectResponse(f"{request.url.path}?seed={secrets.randbelow(SEEDS)}{only}", status_code=303)
    return render(request, "practice.html", _context(terms, problem_set, seed, None, problem))


@router.post(PRACTICE)
@reads_only
async def practice_answers(
    request: Request, _page: CsrfChecked, member: PageMember, terms: PageTerms, sets: SetsDep
) -> Response:
    """The answers of one practice variant graded, with the worked solutions; nothing stored."""
    form = await request.form()
    return await run_in_threadpool(_graded, request, form, member, terms, sets)


def _graded(request: Request, form: FormData, member: Member, terms: Terms, sets: Sets) -> Response:
    problem_set = problem_set_of(terms, sets)
    if not practice_open_to(sets.session, terms=terms, student_id=member.id, randomized=problem_set.randomized):
        return _closed(request, terms, problem_set)
    raw = form.get("seed")
    seed = int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) < SEEDS else 0
    answers = {key: value for key in problem_set.answer_keys() if isinstance(value := form.get(key), str)}
    only = form.get("problem")
    only = only if isinstance(only, str) and only else None
    # graded and shown off the database, within the student's budget of grading work (429 past it)
    with grading(sets.session, budget=request.app.state.grading_budget, account=member.id):
        return render(request, "practice.html", _context(terms, problem_set, seed, answers, only))


def _closed(request: Request, terms: Terms, problem_set: ProblemSet) -> Response:
    context = {"assignment": terms, "closed": True, "randomized": problem_set.randomized}
    return render(request, "practice.html", context, status=403)


def _context(
    terms: Terms, problem_set: ProblemSet, seed: int, answers: dict[str, str] | None, only: str | None = None
) -> dict[str, Any]:
    """The practice variant's problems (``only``: the one with that id), graded when answered; the
    computed parts only (written ones are graded by staff, and code runs in the background: neither
    in practice)."""
    variant = practice_variant(problem_set, seed)
    graded = None
    if answers is not None:
        graded = grade_submission(problem_set, answers, student=variant, solutions=True).parts
    problems = []
    for problem in statements(problem_set, variant):
        if only is not None and problem["id"] != only:
            continue
        parts = []
        for part in problem["parts"]:
            if part["kind"] in ("text", "code"):  # a grader's part, or code to run: practice grades neither
                continue
            result = graded.get(part["key"]) if graded is not None else None
            code = result.misconception if result is not None else None
            parts.append(
                {
                    **part,
                    "value": (answers or {}).get(part["key"], ""),
                    "result": result,
                    "explanation": EXPLANATIONS.get(code) if code else None,
                    "solution": [step.to_json() for step in result.solution or ()] if result is not None else None,
                }
            )
        if parts:
            problems.append({**problem, "parts": parts})
    return {
        "assignment": terms,
        "closed": False,
        "seed": seed,
        "only": only,
        "randomized": problem_set.randomized,
        "problems": problems,
        "answered": graded is not None,
        "needs_math": needs_math(problems) or graded is not None,
    }
