"""submissions.request_hash only with an Idempotency-Key

The hash tells a retry with the same key from a reuse of the key for other answers; a submission
sent without a key has no retry to recognise, and hashing its answers was about 2% of a
submission's CPU. Stored hashes are kept; new submissions without a key store none.

Revision ID: 0018_request_hash_with_a_key
Revises: 0017_manual_grading
Create Date: 2026-11-25 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_request_hash_with_a_key"
down_revision: str | None = "0017_manual_grading"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("request_hash", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    # (a submission without a key has nothing a retry could be compared with: any value will do)
    op.execute("UPDATE submissions SET request_hash = '' WHERE request_hash IS NULL")
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("request_hash", existing_type=sa.String(length=64), nullable=False)
