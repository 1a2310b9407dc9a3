"""courses.categories, assignments.category and grace_minutes: the course gradebook and late work

A course made before this revision has no categories of its own (null: one category ``homework``
of weight 100), and each of its assignments counts in ``homework``; no assignment has a grace
period, so its work is as late as it was. Going down drops the three columns: the course gradebook
is computed when read, and nothing stored depends on them.

Revision ID: 0026_course_gradebook
Revises: 0025_code_fair_share
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_course_gradebook"
down_revision: str | None = "0025_code_fair_share"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("categories", sa.JSON(), nullable=True))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("category", sa.String(length=64), nullable=False, server_default="homework"))
        batch.add_column(sa.Column("grace_minutes", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.create_check_constraint(op.f("ck_assignments_grace_minutes_not_negative"), "grace_minutes >= 0")


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_grace_minutes_not_negative"), type_="check")
        batch.drop_column("grace_minutes")
        batch.drop_column("category")
    with op.batch_alter_table("courses") as batch:
        batch.drop_column("categories")
