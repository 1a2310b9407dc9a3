"""Grading written parts by hand: rubrics and their items, gradings (current, and every version in
grading_events), confirmed groups of similar answers, regrade requests, and when an assignment's
manual grades were released.

Revision ID: 0017_manual_grading
Revises: 0016_practice
Create Date: 2026-11-24 18:34:36.328516
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_manual_grading"
down_revision: str | None = "0016_practice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rubrics",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_rubrics_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "key", name=op.f("pk_rubrics")),
    )
    op.create_table(
        "answer_groups",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_answer_groups_set_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_answer_groups_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "key", name=op.f("pk_answer_groups")),
    )
    op.create_table(
        "grading_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("adjustment", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("graded_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["graded_by"], ["users.id"], name=op.f("fk_grading_events_graded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_grading_events_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_events")),
    )
    with op.batch_alter_table("grading_events", schema=None) as batch_op:
        batch_op.create_index("ix_grading_events_part", ["submission_id", "key"], unique=False)
    op.create_table(
        "gradings",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("adjustment", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("graded_by", sa.String(length=64), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["graded_by"], ["users.id"], name=op.f("fk_gradings_graded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_gradings_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "key", name=op.f("pk_gradings")),
    )
    op.create_table(
        "regrade_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.String(length=64), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["replied_by"], ["users.id"], name=op.f("fk_regrade_requests_replied_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_regrade_requests_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_regrade_requests_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regrade_requests")),
    )
    with op.batch_alter_table("regrade_requests", schema=None) as batch_op:
        batch_op.create_index("ix_regrade_requests_part", ["submission_id", "key"], unique=False)
    op.create_table(
        "rubric_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("shortcut", sa.String(length=1), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id", "key"],
            ["rubrics.course_id", "rubrics.assignment_id", "rubrics.key"],
            name=op.f("fk_rubric_items_course_id_rubrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_items")),
    )
    with op.batch_alter_table("rubric_items", schema=None) as batch_op:
        batch_op.create_index("ix_rubric_items_part", ["course_id", "assignment_id", "key"], unique=False)

    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grades_released_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("grades_released_at")

    with op.batch_alter_table("rubric_items", schema=None) as batch_op:
        batch_op.drop_index("ix_rubric_items_part")
    op.drop_table("rubric_items")
    with op.batch_alter_table("regrade_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_regrade_requests_part")
    op.drop_table("regrade_requests")
    op.drop_table("gradings")
    with op.batch_alter_table("grading_events", schema=None) as batch_op:
        batch_op.drop_index("ix_grading_events_part")
    op.drop_table("grading_events")
    op.drop_table("answer_groups")
    op.drop_table("rubrics")
