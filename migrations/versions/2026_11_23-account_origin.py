"""the course whose roster import created an account (users.created_in)

Whoever may replace an account's token can act as that account everywhere, so that power follows
where the account came from: the staff of the course that created it (and only while everything
the account has lies in courses they run), or an admin. Accounts made before this revision have
no recorded origin: their tokens are replaced by an admin, as accounts made with ``grader users
create`` are.

Revision ID: 0008_account_origin
Revises: 0007_jobs
Create Date: 2026-11-23 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_account_origin"
down_revision: str | None = "0007_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("created_in", sa.String(length=64), nullable=True))
        batch.create_foreign_key("fk_users_created_in_courses", "courses", ["created_in"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_created_in_courses", type_="foreignkey")
        batch.drop_column("created_in")
