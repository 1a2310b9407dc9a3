"""The demo students' work, so that a demo shows what the service does with a course's answers: the
statistics and their charts, the gradebook, named mistakes, late work and the grading queue of
written answers all have something in them.

Each demo student works the same way on every assignment, computed from the set itself (so the work
stays right, or wrong in the intended way, whatever the built-in sets become):

* ``alice`` answers everything right, typed as a student types it (``126 x 126 x 16``, ``13,107,400``);
* ``bob`` makes the named mistakes the set can model (a first attempt with all of them, a second
  with half of them fixed);
* ``carol`` answers the first half right, the next one wrong in no named way, and leaves the rest
  blank; on the closed assignment she submits half a day after its due date (before it closed), so
  her work is late.

Written parts get short answers of each student's own, which wait in the grading queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.assignments.service import variant_of
from api.models import Assignment, Submission
from api.submissions.service import submit
from grader.examples import nudged
from problems.kinds import JSON, AnswerKind
from problems.render import to_json
from problems.sets import Answer, ProblemSet

#: The assignments the demo students have worked on: quick to grade (``grader serve --demo`` waits
#: for them), between them every kind of work the pages show.
WORKED = ("conv-pool-basics", "conv-arithmetic", "cifar-convnet", "rgb-convolution", "network-costs")
#: The assignment of written answers (graded by hand, in the queue).
WRITTEN_SET = "architectures-in-words"
#: The assignment past its due date and closed: its answers released and its practice open.
CLOSED = "conv-arithmetic"
#: How long ago the closed assignment was due (it took late work for a day more, then closed).
CLOSED_AGO = timedelta(days=2)

#: Each student's written answers, by answer key (a key not named here is left blank).
WRITTEN: dict[str, dict[str, str]] = {
    "alice": {
        "w1.differences": (
            "ResNet adds the block's input to its output through an identity shortcut, so gradients flow "
            "straight back and very deep networks train. DenseNet concatenates the feature maps of every "
            "earlier layer, so features are reused and narrow layers suffice: fewer parameters."
        ),
        "w2.why": (
            "The encoder's pooling loses fine spatial detail; the skips bring it back to the decoder, which "
            "then localises boundaries precisely. They concatenate whole feature maps across the network, "
            "where ResNet adds within a block."
        ),
        "w3.explain": "YOLOv3 predicts class scores and an objectness per box: 3 x (4 + 1 + 80) = 255.",
        "w4.nms": "Non-maximum suppression: keep the most confident box, drop those overlapping it by IoU.",
    },
    "bob": {
        "w1.differences": "DenseNet adds the feature maps of all earlier layers; ResNet adds only the input.",
        "w2.why": "To help the gradient flow, like in ResNet.",
        "w3.explain": "YOLOv3 has more anchors.",
        "w4.nms": "Non-max suppression removes overlapping boxes.",
    },
    "carol": {
        "w1.differences": (
            "ResNet sums the shortcut with the block's output; DenseNet concatenates every earlier layer's maps."
        ),
        "w4.nms": "non maximum suppression with an IoU threshold",
    },
}


@dataclass(frozen=True)
class Attempt:
    """One submission to make: whose, what, and when it was sent."""

    student: str
    answers: dict[str, JSON]
    at: datetime


def typed(answer: Answer) -> JSON:
    """An answer as a student types it: a shape with times signs, a large count with separators;
    other kinds as their JSON."""
    value: Any = to_json(answer.kind, answer.value)
    if answer.kind is AnswerKind.SHAPE and all(isinstance(size, int) for size in value):
        return " x ".join(str(size) for size in value)
    if answer.kind is AnswerKind.INTEGER and isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return value


def mistaken(problem_set: ProblemSet, student: str | None) -> dict[str, JSON]:
    """For each key some modelled mistake gets wrong, the first such wrong answer (mistakes in the
    order the grader tries them)."""
    reference = problem_set.solve(student)
    found: dict[str, JSON] = {}
    for code in problem_set.mistake_codes(student):
        for key, answer in problem_set.solve(student, mistake=code).items():
            if key not in found and to_json(answer.kind, answer.value) != to_json(
                reference[key].kind, reference[key].value
            ):
                found[key] = typed(answer)
    return found


def attempts(problem_set: ProblemSet, assignment: Assignment, *, at: datetime) -> list[Attempt]:
    """The demo students' submissions to one assignment, sent in the hours before ``at``; on the
    closed assignment, carol's half a day after its due date."""
    made: list[Attempt] = []
    hour = timedelta(hours=1)
    for student in ("alice", "bob", "carol"):
        variant = variant_of(problem_set, assignment, student)
        solved = problem_set.solve(variant)
        reference = {key: typed(answer) for key, answer in solved.items()}
        written: dict[str, JSON] = {
            key: text for key, text in WRITTEN.get(student, {}).items() if key in problem_set.written()
        }
        if student == "alice":
            made.append(Attempt(student, reference | written, at - 3 * hour))
        elif student == "bob":
            wrong = mistaken(problem_set, variant)
            made.append(Attempt(student, reference | wrong | written, at - 2 * hour))
            if wrong:
                kept = dict(list(wrong.items())[: len(wrong) // 2])
                made.append(Attempt(student, reference | kept | written, at - hour))
        else:
            keys = list(reference)
            half = len(keys) // 2
            answers: dict[str, JSON] = {key: reference[key] for key in keys[:half]}
            if half < len(keys):
                missed = solved[keys[half]]
                answers[missed.key] = nudged(missed.kind, to_json(missed.kind, missed.value))
            due = assignment.due_at
            sent = due + timedelta(hours=12) if assignment.id == CLOSED and due is not None else at
            made.append(Attempt(student, answers | written, sent))
    return [attempt for attempt in made if attempt.answers]


def has_work(session: Session, assignment: Assignment) -> bool:
    """Whether anyone has submitted to the assignment (the demo's work is then left as it is)."""
    return bool(
        session.scalar(
            select(
                exists().where(Submission.course_id == assignment.course_id, Submission.assignment_id == assignment.id)
            )
        )
    )


def add_work(session: Session, *, problem_set: ProblemSet, assignment: Assignment, at: datetime) -> int:
    """Submits the demo students' attempts to an assignment nobody has submitted to, as the service
    would have graded and stored them when they were sent; the number made. The session commits
    between them (grading ends the transaction: :func:`api.submissions.service.grading`)."""
    if has_work(session, assignment):
        return 0
    made = attempts(problem_set, assignment, at=at)
    for attempt in made:
        submit(
            session,
            problem_set=problem_set,
            assignment=assignment,
            student_id=attempt.student,
            answers=attempt.answers,
            now=attempt.at,
            from_lms=False,
        )
    return len(made)
