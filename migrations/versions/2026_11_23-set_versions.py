"""problem sets as content: versions stored with their text; courses upload their own; assignments pin one

Each existing assignment pins the version of its built-in set as the files are now, whose text is
stored; one whose set file no longer exists pins nothing (it grades with nothing until moved to a
set that exists).

Revision ID: 0005_set_versions
Revises: 0004_courses
Create Date: 2026-11-23 11:00:00
"""

import hashlib
from collections.abc import Sequence
from importlib.resources import files

import sqlalchemy as sa
import yaml
from alembic import op

#: The built-in set files (``problems.loader.BUILT_IN``), found without importing the loader: every
#: start of the service reads this file to know the migrations, and the loader brings sympy with it.
BUILT_IN = files("problems") / "sets"

revision: str = "0005_set_versions"
down_revision: str | None = "0004_courses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "set_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("set_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_set_versions")),
    )
    op.create_table(
        "course_sets",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("set_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_course_sets_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_course_sets_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["version"], ["set_versions.version"], name=op.f("fk_course_sets_version_set_versions")
        ),
        sa.PrimaryKeyConstraint("course_id", "set_id", "version", name=op.f("pk_course_sets")),
    )
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("set_version", sa.String(length=64), nullable=True))
    _pin_built_in_versions()


def _pin_built_in_versions() -> None:
    bind = op.get_bind()
    used = {row[0] for row in bind.execute(sa.text("SELECT DISTINCT problem_set FROM assignments"))}
    for path in sorted((p for p in BUILT_IN.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        header = yaml.safe_load(text)
        set_id = header.get("id") if isinstance(header, dict) else None
        if set_id not in used:
            continue
        version = hashlib.sha256(text.encode()).hexdigest()[:12]
        bind.execute(
            sa.text(
                "INSERT INTO set_versions (version, set_id, text, created_at) "
                "VALUES (:version, :set_id, :text, CURRENT_TIMESTAMP)"
            ),
            {"version": version, "set_id": set_id, "text": text},
        )
        bind.execute(
            sa.text("UPDATE assignments SET set_version = :version WHERE problem_set = :set_id"),
            {"version": version, "set_id": set_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("set_version")
    op.drop_table("course_sets")
    op.drop_table("set_versions")
