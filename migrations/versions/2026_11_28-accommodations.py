"""accommodations and student_accommodations: a course's named accommodations, held by students

An accommodation (``time ×1.5``, ``+2 days``) is set once per course and applies to every
assignment of it for the students who hold it, unless a student's extension of an assignment says
otherwise. ``accommodations`` holds the labels (null fields add nothing), ``student_accommodations``
who holds which (removed with the label, or when the student leaves the course). Nothing changes
for the assignments and students before this revision: nobody holds a label yet. Going down drops
both tables (the labels with them).

Revision ID: 0034_accommodations
Revises: 0033_lms_dates
Create Date: 2026-11-28 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_accommodations"
down_revision: str | None = "0033_lms_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accommodations",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("time_multiplier", sa.Float(), nullable=True),
        sa.Column("extra_minutes", sa.Integer(), nullable=True),
        sa.Column("extra_days", sa.Integer(), nullable=True),
        sa.Column("extra_attempts", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "time_multiplier IS NULL OR (time_multiplier >= 1 AND time_multiplier <= 4)",
            name=op.f("ck_accommodations_time_multiplier_range"),
        ),
        sa.CheckConstraint(
            "extra_minutes IS NULL OR extra_minutes >= 0", name=op.f("ck_accommodations_extra_minutes_not_negative")
        ),
        sa.CheckConstraint(
            "extra_days IS NULL OR extra_days >= 0", name=op.f("ck_accommodations_extra_days_not_negative")
        ),
        sa.CheckConstraint(
            "extra_attempts IS NULL OR extra_attempts >= 0", name=op.f("ck_accommodations_extra_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_accommodations_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_accommodations_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("course_id", "name", name=op.f("pk_accommodations")),
    )
    op.create_table(
        "student_accommodations",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id", "name"],
            ["accommodations.course_id", "accommodations.name"],
            name=op.f("fk_student_accommodations_course_id_accommodations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id", "student_id"],
            ["memberships.course_id", "memberships.user_id"],
            name=op.f("fk_student_accommodations_course_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "student_id", "name", name=op.f("pk_student_accommodations")),
    )


def downgrade() -> None:
    op.drop_table("student_accommodations")
    op.drop_table("accommodations")
