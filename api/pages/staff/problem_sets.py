"""``/courses/{course}/problem-sets`` (owner and instructors): the sets the course may use, the
upload of a set file, its check, and a preview of any variant.

An upload is checked by the API's own upload (:func:`api.assignments.sets.upload`, as ``grader
sets validate`` checks a file); a file that does not validate is shown again in the text area, with
each issue beside the lines it is about, so the author fixes it there and sends it again. A stored
file redirects to the preview of its new version, above which its check shows
(``_set_check.html``): a set with code parts has its solutions and declared mistakes run on their
tests by a job (:mod:`api.set_checks`), and while the job is queued or running htmx asks for that
box again every second (``.../problem-sets/{set}/check?version=``), as the regrade's progress is
asked for; without JavaScript the page reloads itself. A failed check lists its issues beside the
lines of the stored file. The preview is a plain GET form (htmx would save a page load and cost 37
kB of script on every visit), and KaTeX (273 kB) is loaded only when the variant shown has a matrix
to typeset (:func:`api.pages.kit.notation.needs_math`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Query, Request
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments.schemas import SetPreview
from api.assignments.sets import MAX_ID_LENGTH, MAX_SEED, course_library, preview, upload
from api.deps import SetsDep
from api.kit.errors import NotFound, TooManyRequests, Unprocessable
from api.kit.ids import may_exist
from api.library.course_sets import Sets
from api.pages.kit.forms import PostedForm, uploaded_text
from api.pages.kit.notation import needs_math
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner
from api.pages.kit.routing import PageRoute
from api.pages.staff.set_issues import PlacedIssue, place_issues
from api.set_checks.limits import CheckLimits
from api.set_checks.service import SetCheck, checks_of
from problems.kinds import AnswerKind
from problems.render import to_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class PreviewState:
    """The preview form as typed, and what it shows: the variant, or why there is none."""

    set_id: str = ""
    version: str = ""
    seed: str = ""
    student: str = ""
    shown: SetPreview | None = None
    error: str | None = None
    #: The set draws per student (pools, its problems' or its options' ``shuffle``): the preview is one
    #: student's draw, of this seed, and the page links the next seed's (another student's)
    drawn_seed: int | None = None

    def reference_text(self, key: str) -> str | None:
        """A reference answer as a student would type it (``126 × 126 × 16``; a matrix as
        ``[[1, 0], [-1, 4]]``, which the ``math`` filter marks for KaTeX); None for a part that has
        none to show: a written part (graded by staff) or code (run on its tests), which the page
        describes instead."""
        assert self.shown is not None
        if key not in self.shown.reference:
            return None
        value = self.shown.reference[key]
        kind = next((part.kind for problem in self.shown.problems for part in problem.parts if part.key == key), None)
        return to_text(AnswerKind(kind), value) if kind in set(AnswerKind) else str(value)


def show_preview(sets: Sets, course_id: str, *, set_id: str, version: str, seed: str, student: str) -> PreviewState:
    """The variant asked for, through the API's own preview; a malformed seed or an unknown set is
    said in the state, as the API's 422 and 404 would."""
    typed = PreviewState(set_id, version, seed, student)
    if not set_id:
        return typed
    if seed and (not seed.isdigit() or int(seed) > MAX_SEED):
        return replace(typed, error=f"The seed is a whole number from 0 to {MAX_SEED}.")
    if len(student) > MAX_ID_LENGTH or len(version) > MAX_ID_LENGTH:
        return replace(typed, error=f"A student id or version has at most {MAX_ID_LENGTH} characters.")
    drawn_seed = None
    if (
        not student
        and may_exist(set_id)
        and (problem_set := sets.usable(course_id, set_id, version or None)) is not None
    ):
        shuffled = any(part.shuffle for part in problem_set.choice().values())
        if problem_set.draws_problems or shuffled:
            drawn_seed = int(seed) if seed else 1  # (a student's draw, never "the same for all")
            seed = str(drawn_seed)
    try:
        shown = preview(
            sets,
            course_id=course_id,
            set_id=set_id,
            version=version or None,
            student=student or None,
            seed=int(seed) if seed else None,
        )
    except NotFound as error:
        return replace(typed, error=str(error.detail))
    return replace(typed, shown=shown, drawn_seed=drawn_seed)


@dataclass(frozen=True)
class CheckView:
    """A version's check as ``_set_check.html`` shows it: the API's check, a failed one's issues
    placed beside the lines of the stored file, and where the box asks for itself again."""

    set_id: str
    version: str
    check: SetCheck
    issues: list[PlacedIssue]
    poll: str

    @property
    def over(self) -> bool:
        return self.check.over

    @property
    def share(self) -> float:
        return min(1.0, self.check.done / self.check.total) if self.check.total else 0.0


def check_view(sets: Sets, course_id: str, set_id: str, version: str) -> CheckView | None:
    """The check of a version the course uploaded, if it had one run (a version without code parts
    passed as it was stored: there is nothing to show)."""
    if version not in sets.course_versions(course_id).get(set_id, []):
        return None
    check = checks_of(sets.session, [version])[version]
    if check.job is None:
        return None
    issues = place_issues(sets.text_of(version) or "", check.issues) if check.issues else []
    poll = f"/courses/{course_id}/problem-sets/{set_id}/check?" + urlencode({"version": version})
    return CheckView(set_id, version, check, issues, poll)


def library_page(
    request: Request,
    runner: Member,
    sets: Sets,
    *,
    preview_state: PreviewState,
    text: str = "",
    issues: list[PlacedIssue] | None = None,
    uploaded: str | None = None,
    status: int = 200,
) -> Response:
    """``issues``: a refused upload's (with ``status`` 429, the one sentence of its budget's refusal)."""
    shown = preview_state.shown
    context: dict[str, Any] = {
        "member": runner,
        "library": course_library(sets, runner.course),
        "preview": preview_state,
        "text": text,
        "issues": issues or [],
        "uploaded": uploaded,
        "refused": status == 429,
        "check": None if shown is None else check_view(sets, runner.course, shown.id, shown.version),
        "needs_math": shown is not None and needs_math([problem.model_dump() for problem in shown.problems]),
    }
    return render(request, "problem_sets.html", context, status=status)


@router.get("/courses/{course_id}/problem-sets")
def problem_sets_page(
    request: Request,
    runner: PageRunner,
    sets: SetsDep,
    set_id: Annotated[str, Query(alias="set")] = "",
    version: str = "",
    seed: str = "",
    student: str = "",
    uploaded: str | None = None,
) -> Response:
    """The library, the upload form and the preview of ``set`` (its newest version, ``version``, or
    ``set@version``; a variant by ``seed`` or ``student``)."""
    set_id, _, older = set_id.strip().partition("@")  # (the form's choice of an older version: ``set@version``)
    state = show_preview(
        sets, runner.course, set_id=set_id, version=older or version.strip(), seed=seed.strip(), student=student.strip()
    )
    note = {"new": "Stored: a new version", "same": "This file is a version the course already has"}.get(uploaded or "")
    return library_page(request, runner, sets, preview_state=state, uploaded=note)


@router.post("/courses/{course_id}/problem-sets")
def upload_set_page(
    request: Request, background: BackgroundTasks, form: PostedForm, runner: PageRunner, sets: SetsDep
) -> Response:
    """``POST .../problem-sets`` of the API, from a file or the text area; a stored file goes to its
    version's preview, with its check."""
    text, unreadable = uploaded_text(form, file_field="set_file", text_field="set_text")
    detail: Any = unreadable
    status = 422
    if detail is None and not text.strip():
        detail = "Choose a set file or paste its text."
    if detail is None:
        jobs = request.app.state.jobs
        try:
            uploaded = upload(
                sets,
                course_id=runner.course,
                text=text,
                uploaded_by=runner.id,
                packages=request.app.state.settings.code_packages,
                limits=CheckLimits.of(request.app.state.settings),
                defer_check=jobs.defer_check,
            )
        except Unprocessable as error:
            detail = error.detail
        except TooManyRequests as error:  # (the instructor's checks' budget: nothing is stored)
            sets.session.rollback()
            detail, status = error.detail, 429
        else:
            if uploaded.started:
                jobs.check_started(background)
            stored = {
                "set": uploaded.problem_set.id,
                "version": uploaded.problem_set.version,
                "uploaded": "new" if uploaded.new else "same",
            }
            anchor = "preview" if uploaded.check.over and not uploaded.check.issues else "set-check"
            query = urlencode(stored)
            return RedirectResponse(f"/courses/{runner.course}/problem-sets?{query}#{anchor}", status_code=303)
    issues = place_issues(text, detail)
    return library_page(request, runner, sets, preview_state=PreviewState(), text=text, issues=issues, status=status)


@router.get("/courses/{course_id}/problem-sets/{set_id}/check")
def set_check_box(
    request: Request,
    runner: PageRunner,
    sets: SetsDep,
    set_id: str,
    version: Annotated[str, Query(max_length=MAX_ID_LENGTH)],
) -> Response:
    """The check's box alone, for htmx to swap in (it stops asking once the check is over)."""
    view = check_view(sets, runner.course, set_id, version)
    if view is None:
        raise NotFound(f"No check of version {version!r} of the set {set_id!r} in this course.")
    return render(request, "_set_check.html", {"check": view})
