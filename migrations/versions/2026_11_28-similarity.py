"""similarity_documents, similarity_prints, similarity_reports: the similarity index and report

An assignment's code parts are fingerprinted once per submission (``similarity_documents``, the
index ``similarity_prints``: fingerprint → submission and part, per assignment) by a job
(``jobs.kind`` may be ``similarity``), which writes the assignment's report
(``similarity_reports``). Going down drops the index and the reports, and the similarity jobs.
The index that keeps one active job per (kind, assignment) is made again around the batch
(SQLite copies the table).

Revision ID: 0036_similarity
Revises: 0035_attempt_events
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036_similarity"
down_revision: str | None = "0035_attempt_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_JOB = "status IN ('queued', 'running')"
KINDS = "'regrade', 'lti_sync', 'set_check'"


def _kinds(kinds: str) -> None:
    op.drop_index("uq_jobs_one_active", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), f"kind IN ({kinds})")
    op.create_index(
        "uq_jobs_one_active",
        "jobs",
        ["kind", "course_id", "assignment_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )


def upgrade() -> None:
    _kinds(KINDS + ", 'similarity'")
    op.create_table(
        "similarity_documents",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_documents_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "part", name=op.f("pk_similarity_documents")),
    )
    with op.batch_alter_table("similarity_documents") as batch:
        batch.create_index("ix_similarity_documents_assignment", ["course_id", "assignment_id"], unique=False)
    op.create_table(
        "similarity_prints",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id", "part"],
            ["similarity_documents.submission_id", "similarity_documents.part"],
            name=op.f("fk_similarity_prints_submission_id_similarity_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "part", "hash", name=op.f("pk_similarity_prints")),
    )
    with op.batch_alter_table("similarity_prints") as batch:
        batch.create_index(
            "ix_similarity_prints_hash", ["course_id", "assignment_id", "hash", "submission_id"], unique=False
        )
    op.create_table(
        "similarity_reports",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.Column("starter", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("last_submission", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_similarity_reports_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_similarity_reports_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_similarity_reports_requested_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", name=op.f("pk_similarity_reports")),
    )


def downgrade() -> None:
    op.drop_table("similarity_reports")
    with op.batch_alter_table("similarity_prints") as batch:
        batch.drop_index("ix_similarity_prints_hash")
    op.drop_table("similarity_prints")
    with op.batch_alter_table("similarity_documents") as batch:
        batch.drop_index("ix_similarity_documents_assignment")
    op.drop_table("similarity_documents")
    op.execute("DELETE FROM jobs WHERE kind = 'similarity'")
    _kinds(KINDS)
