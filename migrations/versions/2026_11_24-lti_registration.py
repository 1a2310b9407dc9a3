"""one-time URLs for LTI Dynamic Registration (an admin makes one; the platform opens it once)

A new table: nothing to carry over.

Revision ID: 0015_lti_registration
Revises: 0014_lti_new_submission
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_lti_registration"
down_revision: str | None = "0014_lti_new_submission"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lti_registrations",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_lti_registrations_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_registrations_platform_id_lti_platforms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_lti_registrations")),
    )


def downgrade() -> None:
    op.drop_table("lti_registrations")
