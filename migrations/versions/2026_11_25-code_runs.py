"""code_runs: a submission's code parts waiting for the sandbox

A row per submission whose code parts are queued or running, written with the submission and
deleted with their results (:mod:`api.code_runs`): what the runners read, and what makes the
results written once.

Revision ID: 0022_code_runs
Revises: 0021_assignment_schedule
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_code_runs"
down_revision: str | None = "0021_assignment_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_runs",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running')", name=op.f("ck_code_runs_status")),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_code_runs_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_code_runs")),
    )
    op.create_index(op.f("ix_code_runs_queued_at"), "code_runs", ["queued_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_code_runs_queued_at"), table_name="code_runs")
    op.drop_table("code_runs")
