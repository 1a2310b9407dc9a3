"""set checks as jobs: a set version's check status and issues, and the sandbox time a check used

An upload's code solutions and declared mistakes are run by a job (``jobs.kind`` may be
``set_check``) rather than inside the request: ``set_versions`` keeps the version's check
(``check_status``, ``check_issues`` and ``check_job_id``, its latest job), and ``jobs`` the sandbox
wall seconds a check may use and those it used, which its instructor's budget counts. The versions
stored before were checked in full as they were uploaded: they have passed. The index that keeps
one active job per (kind, assignment) is made again around the batch (SQLite copies the table).

Revision ID: 0031_set_checks_as_jobs
Revises: 0030_held_back_passback
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_set_checks_as_jobs"
down_revision: str | None = "0030_held_back_passback"
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
        batch.add_column(sa.Column("allowed_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("seconds", sa.Float(), nullable=True))
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), "kind IN ('regrade', 'lti_sync', 'set_check')")
    _one_active()
    with op.batch_alter_table("set_versions") as batch:
        batch.add_column(sa.Column("check_status", sa.String(length=16), nullable=False, server_default="passed"))
        batch.add_column(sa.Column("check_issues", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("check_job_id", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_set_versions_check_status"), "check_status IN ('queued', 'running', 'passed', 'failed')"
        )
        batch.create_foreign_key(
            op.f("fk_set_versions_check_job_id_jobs"), "jobs", ["check_job_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    # (a version whose check had not passed was never usable: without checks as jobs it would be,
    # so it goes, with the course's rows that name it; no assignment pins one)
    unchecked = "SELECT version FROM set_versions WHERE check_status != 'passed'"
    op.execute(f"DELETE FROM course_sets WHERE version IN ({unchecked})")
    op.execute(f"DELETE FROM set_versions WHERE version IN ({unchecked})")
    with op.batch_alter_table("set_versions") as batch:
        batch.drop_constraint(op.f("fk_set_versions_check_job_id_jobs"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_set_versions_check_status"), type_="check")
        batch.drop_column("check_job_id")
        batch.drop_column("check_issues")
        batch.drop_column("check_status")
    op.execute("DELETE FROM jobs WHERE kind = 'set_check'")
    op.drop_index("uq_jobs_one_active", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), "kind IN ('regrade', 'lti_sync')")
        batch.drop_column("seconds")
        batch.drop_column("allowed_seconds")
    _one_active()
