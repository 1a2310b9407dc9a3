"""an index of submissions' scores by course, assignment and student

The course gradebook takes each student's best score from the database (where lateness takes nothing
off): with the score in the index, PostgreSQL and SQLite read it from the index alone, in the order
the maximum is taken, rather than scanning every submission's answers and parts. Nothing stored
changes; going down drops the index.

Revision ID: 0029_submission_scores
Revises: 0028_timed_assignments
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_submission_scores"
down_revision: str | None = "0028_timed_assignments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_submissions_scores", "submissions", ["course_id", "assignment_id", "student_id", "score"])


def downgrade() -> None:
    op.drop_index("ix_submissions_scores", table_name="submissions")
