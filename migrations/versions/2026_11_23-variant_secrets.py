"""each assignment draws its students' variants with a secret (assignments.variant_secret)

Assignments made before have none (NULL): their variants stay drawn from the student id, so the
numbers their students have seen, and the grades stored, do not change.

Revision ID: 0003_variant_secret
Revises: 0002_on_roster
Create Date: 2026-11-23 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_variant_secret"
down_revision: str | None = "0002_on_roster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("variant_secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("variant_secret")
