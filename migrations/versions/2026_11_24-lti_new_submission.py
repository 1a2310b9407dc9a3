"""a passback row says whether its score comes from a new submission (Canvas's ``new_submission``)

Canvas counts every score it receives as a new submission unless told otherwise; a regrade, an
extension or a changed policy is not one. Rows written before this revision are taken as not new.

Revision ID: 0014_lti_new_submission
Revises: 0013_sign_in
Create Date: 2026-11-24 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_lti_new_submission"
down_revision: str | None = "0013_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_scores") as batch:
        batch.add_column(sa.Column("new_submission", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("lti_scores") as batch:
        batch.drop_column("new_submission")
