"""The demo students' code, so that a demo shows code parts graded in the sandbox: test by test,
with the mistakes the grader names.

The modules are the set's own solutions (:meth:`problems.sets.ProblemSet.solution_of`), some with a
named mistake made in them by one exact substitution, which must find its text once (so a changed
solution fails loudly here rather than giving a mistake that no longer is the one named):

* in ``numpy-convolution``, ``alice`` submits the solution of every code part; ``bob`` flips the
  kernel in ``conv_forward``, assigns the weights' gradient (``=`` for ``+=``) in ``conv_backward``,
  averages in ``max_pool_forward``, and gets ``max_pool_backward`` right; ``carol`` submits only
  ``conv_forward``, the bias left out;
* in ``seed-code-tasks``, its parts in numpy (the Sobel filter, the transposed convolution read
  from what it prints): ``alice`` right, ``bob`` with the kernel flipped and the stamps written over
  each other (the torch parts are left blank: a demo's machine need not have torch).

They are submitted as the service stores them (:func:`api.submissions.service.submit`): their code
parts ``queued``, graded by the service once it runs (on SQLite its own runner, at its start; on
PostgreSQL a code worker, reached through the deferrer the loader is given).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.code_runs.queueing import Deferrer
from api.demo.work import has_work
from api.models import Assignment
from api.submissions.service import submit
from problems.sets import ProblemSet

log = logging.getLogger("grader.demo")

#: The assignment the demo students answer with code in every part.
CODE_SET = "numpy-convolution"
#: The assignment posing the seeds' code tasks, answered in its numpy parts.
SEED_CODE_SET = "seed-code-tasks"


@dataclass(frozen=True)
class Slip:
    """A named mistake made in a solution: ``old`` (found exactly once) replaced by ``new``."""

    mistake: str
    old: str
    new: str

    def made_in(self, source: str) -> str:
        found = source.count(self.old)
        if found != 1:
            raise ValueError(
                f"The demo makes the mistake {self.mistake!r} by replacing {self.old!r}, which the solution "
                f"holds {found} times, not once."
            )
        return source.replace(self.old, self.new)


KERNEL_FLIPPED = Slip(
    "kernel-flipped", "np.tensordot(window, w, axes=", "np.tensordot(window, w[:, :, ::-1, ::-1], axes="
)
GRADIENT_NOT_ACCUMULATED = Slip("gradient-not-accumulated", "dw += np.tensordot(", "dw = np.tensordot(")
POOLING_TYPE_SWAPPED = Slip("pooling-type-swapped", "window.max(axis=(2, 3))", "window.mean(axis=(2, 3))")
BIAS_OMITTED = Slip("bias-omitted", "axes=([1, 2, 3], [1, 2, 3])) + b\n", "axes=([1, 2, 3], [1, 2, 3]))\n")

SOBEL_FLIPPED = Slip("kernel-flipped", "j : j + k] * kernel)", "j : j + k] * kernel[::-1, ::-1])")
OVERLAP_ASSIGNED = Slip(
    "overlap-assigned", "out[i : i + k, j : j + k] += x[i, j] * w", "out[i : i + k, j : j + k] = x[i, j] * w"
)

#: By assignment, each student's code by answer key: the solution, with the slip named (None: as it
#: is). A key not named is left blank.
SLIPS: dict[str, dict[str, dict[str, Slip | None]]] = {
    CODE_SET: {
        "alice": dict.fromkeys(("conv.forward", "conv.backward", "pool.forward", "pool.backward")),
        "bob": {
            "conv.forward": KERNEL_FLIPPED,
            "conv.backward": GRADIENT_NOT_ACCUMULATED,
            "pool.forward": POOLING_TYPE_SWAPPED,
            "pool.backward": None,
        },
        "carol": {"conv.forward": BIAS_OMITTED},
    },
    SEED_CODE_SET: {
        "alice": {"sobel.filter": None, "transposed.steps": None},
        "bob": {"sobel.filter": SOBEL_FLIPPED, "transposed.steps": OVERLAP_ASSIGNED},
    },
}
#: The assignments the demo students answer with code.
CODE_SETS = tuple(SLIPS)
#: When each student submitted, before the load.
SENT_BEFORE = {"alice": timedelta(hours=3), "bob": timedelta(hours=2), "carol": timedelta(hours=1)}


def code_answers(problem_set: ProblemSet, student: str) -> dict[str, str]:
    """The modules ``student`` submits, by answer key (only keys the set has)."""
    keys = problem_set.code()
    return {
        key: problem_set.solution_of(key) if slip is None else slip.made_in(problem_set.solution_of(key))
        for key, slip in SLIPS.get(problem_set.id, {}).get(student, {}).items()
        if key in keys
    }


def add_code_work(
    session: Session, *, problem_set: ProblemSet, assignment: Assignment, at: datetime, defer_code: Deferrer | None
) -> int:
    """Submits the demo students' modules to an assignment nobody has submitted to; the number
    made. On PostgreSQL without ``defer_code`` nothing is submitted (no worker would hear of the
    runs), and a sentence logged says so. The session commits between submissions."""
    if has_work(session, assignment):
        return 0
    if defer_code is None and session.get_bind().dialect.name != "sqlite":
        log.warning(
            "The demo students' code on %r is left out: on PostgreSQL its runs go to a code worker's "
            "queue, and the demo was loaded without one.",
            assignment.id,
        )
        return 0
    made = 0
    for student, before in SENT_BEFORE.items():
        answers = code_answers(problem_set, student)
        if not answers:
            continue
        submit(
            session,
            problem_set=problem_set,
            assignment=assignment,
            student_id=student,
            answers=answers,
            now=at - before,
            from_lms=False,
            defer_code=defer_code,
        )
        session.commit()
        made += 1
    return made
