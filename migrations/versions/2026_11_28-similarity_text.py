"""similarity_reports.reference_assignments: past terms' assignments a report compares against

Staff may name earlier assignments (of this course or another they staff) when they ask for a
similarity report: their submissions are compared against, never paired with each other. What was
named is kept beside the parts and the starter for the job to read. Going down drops it (the
reports then compare the class alone).

Revision ID: 0038_similarity_text
Revises: 0037_similarity_once
Create Date: 2026-11-28 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_similarity_text"
down_revision: str | None = "0037_similarity_once"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("similarity_reports") as batch:
        batch.add_column(sa.Column("reference_assignments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("similarity_reports") as batch:
        batch.drop_column("reference_assignments")
