"""lti_logins keeps only the states that accepted launches used

A login under way stores nothing any more: its state is signed by the tool and carries the
platform, the nonce and the platform storage frame (api/lti/logins.py), so that anonymous logins
write no row. A row is written when a launch is accepted, so that its state is used once: the
nonce and the storage frame are no longer stored.

Revision ID: 0019_lti_signed_login_state
Revises: 0018_request_hash_with_a_key
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_lti_signed_login_state"
down_revision: str | None = "0018_request_hash_with_a_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the logins under way lose their launch either way: their states were random, not signed
    op.execute("DELETE FROM lti_logins")
    with op.batch_alter_table("lti_logins") as batch:
        batch.drop_column("storage_target")
        batch.drop_column("nonce")


def downgrade() -> None:
    # the rows of used states mean nothing to the code before: a login under way had one
    op.execute("DELETE FROM lti_logins")
    with op.batch_alter_table("lti_logins") as batch:
        batch.add_column(sa.Column("nonce", sa.String(length=64), nullable=False))
        batch.add_column(sa.Column("storage_target", sa.String(length=64), nullable=True))
