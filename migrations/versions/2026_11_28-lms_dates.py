"""courses.dates_from, the line items' dates to send, lms_dates: one truth for dates with the LMS

A course says which side owns its dates (``grader``, the default, for every course made before
this revision: nothing changes for them; or ``lms``). Where grader owns them, each LMS line item
known here carries when the assignment's dates are next to be sent to it (null: nothing to send),
its tries and its last refusal. ``lms_dates`` keeps the due date an LMS gave at each user's latest
launch of an assignment, for the staff's line where the two differ. Going down drops them all (the
extensions an LMS date made stay, as any extension).

Revision ID: 0033_lms_dates
Revises: 0032_exam_access
Create Date: 2026-11-28 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_lms_dates"
down_revision: str | None = "0032_exam_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("dates_from", sa.String(length=8), nullable=False, server_default="grader"))
        batch.create_check_constraint(op.f("ck_courses_dates_from"), "dates_from IN ('grader', 'lms')")
    with op.batch_alter_table("lti_line_items") as batch:
        batch.add_column(sa.Column("dates_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dates_attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("dates_error", sa.Text(), nullable=True))
        batch.create_index(op.f("ix_lti_line_items_dates_due_at"), ["dates_due_at"], unique=False)
    op.create_table(
        "lms_dates",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_lms_dates_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lms_dates_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "user_id", name=op.f("pk_lms_dates")),
    )


def downgrade() -> None:
    op.drop_table("lms_dates")
    with op.batch_alter_table("lti_line_items") as batch:
        batch.drop_index(op.f("ix_lti_line_items_dates_due_at"))
        batch.drop_column("dates_error")
        batch.drop_column("dates_attempts")
        batch.drop_column("dates_due_at")
    with op.batch_alter_table("courses") as batch:
        batch.drop_constraint(op.f("ck_courses_dates_from"), type_="check")
        batch.drop_column("dates_from")
