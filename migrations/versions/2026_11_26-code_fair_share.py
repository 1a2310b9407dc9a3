"""code_runs.student_id and turn, and code_time: the code queue shared out per student

A run carries its student (copied from the submission) and its turn (the student's runs waiting
when it was queued), so the runners take one run per student at a time, by turn then age, and a
student's queued runs are counted in one indexed read; ``code_time`` holds the sandbox wall time
each student's code used on an assignment in its current window (:mod:`api.code_runs`).

Revision ID: 0025_code_fair_share
Revises: 0024_link_downloads
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_code_fair_share"
down_revision: str | None = "0024_link_downloads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("code_runs") as batch:
        batch.add_column(sa.Column("student_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("turn", sa.Integer(), nullable=False, server_default=sa.text("0")))
    # (the runs queued before: their student read from their submission, each at the first turn)
    op.execute(
        "UPDATE code_runs SET student_id = "
        "(SELECT submissions.student_id FROM submissions WHERE submissions.id = code_runs.submission_id)"
    )
    with op.batch_alter_table("code_runs") as batch:
        batch.alter_column("student_id", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("turn", existing_type=sa.Integer(), server_default=None)
        batch.create_index(batch.f("ix_code_runs_student_id"), ["student_id"])
    op.create_table(
        "code_time",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_code_time_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_code_time_student_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "student_id", name=op.f("pk_code_time")),
    )


def downgrade() -> None:
    op.drop_table("code_time")
    with op.batch_alter_table("code_runs") as batch:
        batch.drop_index(batch.f("ix_code_runs_student_id"))
        batch.drop_column("turn")
        batch.drop_column("student_id")
