"""assignments.practice: when students may practise on fresh variants (never, after_due, always)

Every assignment made before this revision opens practice after its due date, the default.

Revision ID: 0016_practice
Revises: 0015_lti_registration
Create Date: 2026-11-24 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_practice"
down_revision: str | None = "0015_lti_registration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("practice", sa.String(length=16), nullable=False, server_default="after_due"))
        batch.create_check_constraint(op.f("ck_assignments_practice"), "practice IN ('never', 'after_due', 'always')")


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_practice"), type_="check")
        batch.drop_column("practice")
