"""LTI grade passback (AGS): the outbox of scores, the line items of assignments, and the grade and
roster services of a linked LMS course

Revision ID: 0011_lti_scores
Revises: 0010_lti
Create Date: 2026-11-24 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_lti_scores"
down_revision: str | None = "0010_lti"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lti_line_items",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id", "context_id"],
            ["lti_contexts.platform_id", "lti_contexts.context_id"],
            name=op.f("fk_lti_line_items_platform_id_lti_contexts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("platform_id", "context_id", "assignment_id", name=op.f("pk_lti_line_items")),
    )
    op.create_table(
        "lti_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("grading_progress", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f("ck_lti_scores_status")),
        sa.ForeignKeyConstraint(
            ["platform_id", "context_id"],
            ["lti_contexts.platform_id", "lti_contexts.context_id"],
            name=op.f("fk_lti_scores_platform_id_lti_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_lti_scores_student_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_scores")),
    )
    with op.batch_alter_table("lti_scores", schema=None) as batch_op:
        batch_op.create_index("ix_lti_scores_due", ["status", "next_try_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lti_scores_student_id"), ["student_id"], unique=False)

    with op.batch_alter_table("lti_contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lineitems_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("memberships_url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_contexts", schema=None) as batch_op:
        batch_op.drop_column("memberships_url")
        batch_op.drop_column("lineitems_url")

    with op.batch_alter_table("lti_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_scores_student_id"))
        batch_op.drop_index("ix_lti_scores_due")

    op.drop_table("lti_scores")
    op.drop_table("lti_line_items")
