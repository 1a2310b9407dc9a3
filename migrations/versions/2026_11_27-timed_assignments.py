"""assignments.time_limit, extensions.extra_minutes and clocks: timed assignments

A timed assignment gives each student ``time_limit`` minutes from their first start, never past
their close; an extension may add ``extra_minutes``. A student's start and their draft (the last
answers saved, never graded) are one ``clocks`` row, unique per assignment and student, so that
two tabs or two concurrent starts find one clock; ``submitted_at`` marks the clock handled by the
time-up sweep. Every assignment made before this revision is untimed (null), so nothing changes
for it. Going down drops the columns and the table (drafts and clocks with them: they are never
graded, and the submissions they led to stay).

Revision ID: 0028_timed_assignments
Revises: 0026_course_gradebook
Create Date: 2026-11-27 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_timed_assignments"
down_revision: str | None = "0027_feedback_held_back"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("time_limit", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_assignments_time_limit_positive"), "time_limit IS NULL OR time_limit >= 1"
        )
    with op.batch_alter_table("extensions") as batch:
        batch.add_column(sa.Column("extra_minutes", sa.Integer(), nullable=True))
    op.create_table(
        "clocks",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_clocks_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_clocks_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_clocks_submission_id_submissions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "student_id", name=op.f("pk_clocks")),
    )
    op.create_index(op.f("ix_clocks_submitted_at"), "clocks", ["submitted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_clocks_submitted_at"), table_name="clocks")
    op.drop_table("clocks")
    with op.batch_alter_table("extensions") as batch:
        batch.drop_column("extra_minutes")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_time_limit_positive"), type_="check")
        batch.drop_column("time_limit")
