"""background jobs: the jobs the API shows, their done-markers, and procrastinate's queue on PostgreSQL

``jobs`` and ``job_items`` exist on both backends; ``earlier_grades.job_id`` names the regrade that
replaced a grade. On PostgreSQL the schema of procrastinate (the queue that carries jobs to
``grader worker`` processes) is applied as the installed version ships it: pyproject.toml pins that
version, so this revision and the library agree. Procrastinate's objects all start with
``procrastinate_`` and are left out of the comparison of models and database (:mod:`api.kit.migrate`).

Revision ID: 0007_jobs
Revises: 0006_sessions
Create Date: 2026-11-23 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_jobs"
down_revision: str | None = "0006_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_JOB = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("last_submission", sa.Integer(), nullable=True),
        sa.Column("set_version", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queue_job_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_status")),
        sa.CheckConstraint("kind IN ('regrade')", name=op.f("ck_jobs_kind")),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_jobs_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_jobs_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        "uq_jobs_one_active",
        "jobs",
        ["kind", "course_id", "assignment_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )
    op.create_table(
        "job_items",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_items_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_job_items_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "submission_id", name=op.f("pk_job_items")),
    )
    op.create_index(op.f("ix_job_items_submission_id"), "job_items", ["submission_id"], unique=False)
    with op.batch_alter_table("earlier_grades") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_earlier_grades_job_id_jobs"), "jobs", ["job_id"], ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_earlier_grades_job_id"), ["job_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _procrastinate_schema()


def _procrastinate_schema() -> None:
    """procrastinate's schema.sql, as one script (it has several statements and literal ``%``:
    run without parameters on the driver's cursor, as procrastinate's own ``apply_schema`` does)."""
    from procrastinate.schema import SchemaManager

    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(SchemaManager.get_schema())
    finally:
        cursor.close()


def _drop_procrastinate() -> None:
    """Every object procrastinate's schema made (its names all start with ``procrastinate_``)."""
    bind = op.get_bind()
    tables = bind.execute(
        sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'"
        )
    ).scalars()
    for table in list(tables):
        op.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    functions = bind.execute(
        sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'"
        )
    ).scalars()
    for function in list(functions):
        op.execute(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    types = bind.execute(
        sa.text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c')"
        )
    ).scalars()
    for type_name in list(types):
        op.execute(f'DROP TYPE IF EXISTS "{type_name}" CASCADE')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _drop_procrastinate()
    with op.batch_alter_table("earlier_grades") as batch:
        batch.drop_index(op.f("ix_earlier_grades_job_id"))
        batch.drop_constraint(op.f("fk_earlier_grades_job_id_jobs"), type_="foreignkey")
        batch.drop_column("job_id")
    op.drop_index(op.f("ix_job_items_submission_id"), table_name="job_items")
    op.drop_table("job_items")
    op.drop_index("uq_jobs_one_active", table_name="jobs")
    op.drop_table("jobs")
