"""a page session names its account (sessions.user_id) and how it was opened (sessions.via)

Sessions were tied to the API token they were opened with. A launch from a learning platform (LTI)
or a one-time sign-in link opens a session for an account without any token, so the row now names
the account, and the token only when one opened it (replacing that token still ends its sessions).
Existing sessions keep working: each takes its token's account and ``via = 'token'``.

Revision ID: 0009_session_account
Revises: 0008_account_origin
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_session_account"
down_revision: str | None = "0008_account_origin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("user_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("via", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE sessions SET via = 'token', "
        "user_id = (SELECT api_tokens.user_id FROM api_tokens WHERE api_tokens.id = sessions.token_id)"
    )
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("user_id", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("via", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("token_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key(op.f("fk_sessions_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE")
        batch.create_check_constraint(op.f("ck_sessions_via"), "via IN ('token', 'lti', 'link')")
        batch.create_index(op.f("ix_sessions_user_id"), ["user_id"])


def downgrade() -> None:
    # A session opened without a token cannot be tied to one: it ends (its browser signs in again).
    op.execute("DELETE FROM sessions WHERE token_id IS NULL")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(op.f("ix_sessions_user_id"))
        batch.drop_constraint(op.f("ck_sessions_via"), type_="check")
        batch.drop_constraint(op.f("fk_sessions_user_id_users"), type_="foreignkey")
        batch.drop_column("via")
        batch.drop_column("user_id")
        batch.alter_column("token_id", existing_type=sa.Integer(), nullable=False)
