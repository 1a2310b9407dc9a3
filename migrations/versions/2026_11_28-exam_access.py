"""assignments.access and attempt_sessions: the exam room's access rules

An assignment may ask for a password (stored as its scrypt hash, never as text), allow only some
networks, and bind each student's attempt to the session that started it: ``assignments.access``
holds the rules (null: none, so nothing changes for the assignments made before this revision),
``attempt_sessions`` the session each attempt is bound to, when another session was refused (a
lock) and who unlocked it. Going down drops both (the rules with them: an exam set after a
downgrade must have them set again).

Revision ID: 0032_exam_access
Revises: 0031_set_checks_as_jobs
Create Date: 2026-11-28 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_exam_access"
down_revision: str | None = "0031_set_checks_as_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("access", sa.JSON(), nullable=True))
    op.create_table(
        "attempt_sessions",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("session_key", sa.String(length=64), nullable=True),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlocked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_attempt_sessions_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_attempt_sessions_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unlocked_by"], ["users.id"], name=op.f("fk_attempt_sessions_unlocked_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "student_id", name=op.f("pk_attempt_sessions")),
    )


def downgrade() -> None:
    op.drop_table("attempt_sessions")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("access")
