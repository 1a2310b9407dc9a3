"""attempt_events, clocks.added_minutes and clocks.closes_at: the proctor's log and added time

Each attempt on an exam keeps a log of what happened to it (``attempt_events``: its start, saves,
locks, unlocks, time added, submissions, an end by staff, and the page's focus-loss and paste
signals), and a running clock may be given more time by a proctor: ``clocks.added_minutes`` (0 for
the clocks made before this revision) and ``clocks.closes_at``, the attempt's own close where the
added time took it past the student's close (null: theirs). Going down drops the log and the
added time with it (the clocks keep their start, draft and outcome).

Revision ID: 0035_attempt_events
Revises: 0034_accommodations
Create Date: 2026-11-28 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035_attempt_events"
down_revision: str | None = "0034_accommodations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clocks") as batch:
        batch.add_column(sa.Column("added_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "attempt_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_attempt_events_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_attempt_events_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["by"], ["users.id"], name=op.f("fk_attempt_events_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_events")),
    )
    with op.batch_alter_table("attempt_events") as batch:
        batch.create_index(
            "ix_attempt_events_attempt", ["course_id", "assignment_id", "student_id", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attempt_events") as batch:
        batch.drop_index("ix_attempt_events_attempt")
    op.drop_table("attempt_events")
    with op.batch_alter_table("clocks") as batch:
        batch.drop_column("closes_at")
        batch.drop_column("added_minutes")
