"""assignments.grades_released_parts: the written parts whose grades were released on their own

Null for every assignment made before this revision: its parts are released together or not at
all (``grades_released_at``), as before. Going down drops the column, so the parts released on
their own are withheld again until all are released: students see less, never more.

Revision ID: 0023_grades_released_parts
Revises: 0022_code_runs
Create Date: 2026-11-25 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_grades_released_parts"
down_revision: str | None = "0022_code_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("grades_released_parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("grades_released_parts")
