"""assignments.feedback: what a student sees of an attempt before the answers are released

An assignment made before this revision shows every part's status, feedback and named mistake, as
it did: ``full``. Going down drops the column: what is held back is decided when a submission is
read, and nothing stored depends on it.

Revision ID: 0027_feedback_held_back
Revises: 0026_course_gradebook
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_feedback_held_back"
down_revision: str | None = "0026_course_gradebook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = "'full', 'correctness', 'score', 'none'"


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("feedback", sa.String(length=16), nullable=False, server_default="full"))
        batch.create_check_constraint(op.f("ck_assignments_feedback"), f"feedback IN ({LEVELS})")


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_feedback"), type_="check")
        batch.drop_column("feedback")
