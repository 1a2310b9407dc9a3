"""jobs about a whole course: an LTI sync (the LMS roster read by NRPS, every score sent again)

``jobs.assignment_id`` becomes nullable (a course's job names no assignment) and ``kind`` may be
``lti_sync``. The index that keeps one active job per (kind, assignment) is made again around the
batch (SQLite copies the table).

Revision ID: 0012_lti_sync_jobs
Revises: 0011_lti_scores
Create Date: 2026-11-24 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_lti_sync_jobs"
down_revision: str | None = "0011_lti_scores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_JOB = "status IN ('queued', 'running')"


def _one_active() -> None:
    op.create_index(
        "uq_jobs_one_active",
        "jobs",
        ["kind", "course_id", "assignment_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )


def upgrade() -> None:
    op.drop_index("uq_jobs_one_active", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("assignment_id", existing_type=sa.String(length=64), nullable=True)
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), "kind IN ('regrade', 'lti_sync')")
    _one_active()


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind = 'lti_sync'")
    op.drop_index("uq_jobs_one_active", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), "kind IN ('regrade')")
        batch.alter_column("assignment_id", existing_type=sa.String(length=64), nullable=False)
    _one_active()
