"""LTI 1.3: registered platforms and their deployments, the tool's keys, logins under way, accounts
by (platform, sub), LMS courses linked to courses, accepted launches

Revision ID: 0010_lti
Revises: 0009_session_account
Create Date: 2026-11-24 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_lti"
down_revision: str | None = "0009_session_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lti_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_lti_keys")),
    )
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_url", sa.String(length=2000), nullable=False),
        sa.Column("token_url", sa.String(length=2000), nullable=False),
        sa.Column("jwks_url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platforms")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platforms_issuer_client_id")),
    )
    op.create_table(
        "lti_accounts",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_accounts_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lti_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("platform_id", "sub", name=op.f("pk_lti_accounts")),
    )
    with op.batch_alter_table("lti_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_accounts_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lti_deployments",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_deployments_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform_id", "deployment_id", name=op.f("pk_lti_deployments")),
    )
    op.create_table(
        "lti_launches",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=32), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_launches_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lti_launches_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_lti_launches")),
    )
    with op.batch_alter_table("lti_launches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_launches_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lti_launches_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lti_logins",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("storage_target", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_logins_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_lti_logins")),
    )
    with op.batch_alter_table("lti_logins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_logins_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lti_logins_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "lti_contexts",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("linked_by", sa.String(length=64), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_lti_contexts_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["linked_by"], ["users.id"], name=op.f("fk_lti_contexts_linked_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            name=op.f("fk_lti_contexts_platform_id_lti_platforms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform_id", "context_id", name=op.f("pk_lti_contexts")),
    )
    with op.batch_alter_table("lti_contexts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lti_contexts_course_id"), ["course_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lti_contexts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_contexts_course_id"))

    op.drop_table("lti_contexts")
    with op.batch_alter_table("lti_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_logins_platform_id"))
        batch_op.drop_index(batch_op.f("ix_lti_logins_expires_at"))

    op.drop_table("lti_logins")
    with op.batch_alter_table("lti_launches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_launches_user_id"))
        batch_op.drop_index(batch_op.f("ix_lti_launches_expires_at"))

    op.drop_table("lti_launches")
    op.drop_table("lti_deployments")
    with op.batch_alter_table("lti_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_accounts_user_id"))

    op.drop_table("lti_accounts")
    op.drop_table("lti_platforms")
    op.drop_table("lti_keys")
