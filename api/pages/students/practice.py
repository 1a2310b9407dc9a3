"""Practice on fresh variants: a student asks for a new variant of the assignment's problems (a
fixed set's are the same every time), answers with the same reading and feedback as the graded
page, and sees the worked solution once answered. Nothing is stored: the variant comes from the
token in the page's address and form, so nothing reaches the gradebook, the statistics or the LMS.

Open under the assignment's ``practice`` setting and the student's own terms
(:func:`api.terms.rules.practice_open`: by default once their due date has passed, and only once
nobody can still submit, since a practice variant may have a graded variant's numbers; on a fixed
set, whose one variant is the graded one, once its answers are released).

The address names a variant by a token the server signed, ``N.MAC``: MAC is an HMAC of the
assignment and the seed N under the assignment's variant secret, and the variant is drawn from the
key ``practice:MAC``. A student cannot choose a variant (a seed alone is refused, and a MAC cannot
be made without the secret), nor search offline for the token of one they want (without the
secret the numbers of a token cannot be computed). No graded variant (``v:`` and an HMAC, a
student id, or an offline ``seed:N``) is keyed ``practice:``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments.options import StudentLetters, order_key, picks_of
from api.assignments.service import statements
from api.deps import SetsDep, problem_set_of
from api.kit.db import reads_only
from api.library.course_sets import Sets
from api.pages.kit.deps import CsrfChecked, PageMember, PageTerms
from api.pages.kit.notation import needs_math
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.students.choice_parts import choice_answers
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
#: Hex digits of the MAC in a token: 128 bits, beyond guessing.
MAC_DIGITS = 32


def practice_token(terms: Terms, seed: int) -> str:
    """The signed token of practice variant ``seed`` of this assignment (its variant secret set:
    :func:`api.terms.rules.practice_open` opens practice on a randomized set only then)."""
    return f"{seed}.{_mac(terms, seed)}"


def practice_variant(terms: Terms, problem_set: ProblemSet, token: str | None) -> tuple[int, str | None] | None:
    """The seed and variant key a token names (a fixed set: its one variant, whatever the token),
    or None where the token is not one the server signed for this assignment."""
    if not problem_set.randomized:
        return 0, None
    seed, dot, mac = (token or "").partition(".")
    if not (dot and seed.isascii() and seed.isdigit() and len(seed) <= 10 and int(seed) < SEEDS and mac.isascii()):
        return None
    expected = _mac(terms, int(seed))
    if not hmac.compare_digest(expected, mac):
        return None
    return int(seed), f"practice:{expected}"


def _mac(terms: Terms, seed: int) -> str:
    secret = terms.variant_secret
    assert secret is not None, "practice on a randomized set opens only with a variant secret"
    message = f"practice\x1f{terms.course_id}\x1f{terms.id}\x1f{seed}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:MAC_DIGITS]


@router.get(PRACTICE)
def practice_page(
    request: Request,
    member: PageMember,
    terms: PageTerms,
    sets: SetsDep,
    variant: Annotated[str | None, Query(max_length=64)] = None,
    seed: Annotated[str | None, Query(max_length=64)] = None,
    problem: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The problems of one practice variant (``problem``: that one alone); on a randomized set
    without a variant, a fresh one (a redirect to its signed token). An address with a seed (the
    old form) or a token the server did not sign is refused (400): variants are not chosen. A fixed
    set's page is the same whatever the address says."""
    problem_set = problem_set_of(terms, sets)
    if not practice_open_to(sets.session, terms=terms, student_id=member.id, randomized=problem_set.randomized):
        return _closed(request, terms, problem_set)
    if seed is not None and problem_set.randomized:
        return _refused(request, terms, problem_set)
    if variant is None and problem_set.randomized:
        token = practice_token(terms, secrets.randbelow(SEEDS))
        only = "" if problem is None else f"&problem={quote(problem)}"
        return RedirectResponse(f"{request.url.path}?variant={token}{only}", status_code=303)
    drawn = practice_variant(terms, problem_set, variant)
    if drawn is None:
        return _refused(request, terms, problem_set)
    context = _context(terms, problem_set, drawn, variant, None, problem, student=member.id)
    return render(request, "practice.html", context)


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
    raw = form.get("variant")
    token = raw if isinstance(raw, str) else None
    drawn = practice_variant(terms, problem_set, token)
    if drawn is None:
        return _refused(request, terms, problem_set)
    answers: dict[str, Any] = {
        key: value for key in problem_set.answer_keys() if isinstance(value := form.get(key), str)
    }
    answers |= choice_answers(form, problem_set)  # (a checkbox group's every tick)
    only = form.get("problem")
    only = only if isinstance(only, str) and only else None
    # graded and shown off the database, within the student's budget of grading work (429 past it)
    with grading(sets.session, budget=request.app.state.grading_budget, account=member.id):
        context = _context(terms, problem_set, drawn, token, answers, only, student=member.id)
        return render(request, "practice.html", context)


def _closed(request: Request, terms: Terms, problem_set: ProblemSet) -> Response:
    context = {"assignment": terms, "closed": True, "randomized": problem_set.randomized}
    return render(request, "practice.html", context, status=403)


def _refused(request: Request, terms: Terms, problem_set: ProblemSet) -> Response:
    """A variant the server did not hand out: a seed typed in, a token altered or of another
    assignment (400, with a link to a fresh one)."""
    context = {"assignment": terms, "closed": False, "refused": True, "randomized": problem_set.randomized}
    return render(request, "practice.html", context, status=400)


def _context(
    terms: Terms,
    problem_set: ProblemSet,
    drawn: tuple[int, str | None],
    token: str | None,
    answers: dict[str, Any] | None,
    only: str | None = None,
    *,
    student: str,
) -> dict[str, Any]:
    """The practice variant's problems (``only``: the one with that id), graded when answered; the
    computed and choice parts only (written ones are graded by staff, and code runs in the
    background: neither in practice). A choice part's options are in the variant's order (a fixed
    set's: the ``student``'s own, as on their assignment page), known by the letters of that order."""
    seed, variant = drawn
    options_for = variant if variant is not None else order_key(terms, student)
    letters = StudentLetters.of(problem_set, options_for)
    graded = None
    if answers is not None:
        found = grade_submission(problem_set, letters.answers_to_file(answers), student=variant, solutions=True)
        graded = {
            key: replace(part, read_as=letters.read_as_shown(key, part.read_as)) for key, part in found.parts.items()
        }
    problems = []
    for problem in statements(problem_set, variant, options_for, own_letters=True):
        if only is not None and problem["id"] != only:
            continue
        parts: list[dict[str, Any]] = []
        for part in problem["parts"]:
            if part["kind"] in ("text", "code"):  # a grader's part, or code to run: practice grades neither
                continue
            result = graded.get(part["key"]) if graded is not None else None
            code = result.misconception if result is not None else None
            sent = (answers or {}).get(part["key"], "")
            parts.append(
                {
                    **part,
                    "value": sent if isinstance(sent, str) else "",
                    "picked": picks_of(sent),
                    "title": part["prompt"] or f"Part {len(parts) + 1}",
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
        "token": token if problem_set.randomized else None,
        "only": only,
        "randomized": problem_set.randomized,
        "problems": problems,
        "answered": graded is not None,
        "needs_math": needs_math(problems) or graded is not None,
    }
