"""many courses in one service: courses, memberships with roles, extensions, late penalties

The single-course data moves into one course, ``default`` ("Default course"): its assignments,
their submissions, and its people as members. The earliest instructor account owns it, the other
instructors are its instructors, and the students on the roster its students (students dropped
from the roster stay accounts with their submissions, members of nothing). Assignments are keyed by
(course, id) from now on, and submissions carry their course. A database with no account and no
assignment (a fresh one) gets no course.

Revision ID: 0004_courses
Revises: 0003_variant_secret
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_courses"
down_revision: str | None = "0003_variant_secret"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_COURSE = "default"
LEGACY_TITLE = "Default course"


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_courses_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    op.create_table(
        "memberships",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'instructor', 'ta', 'student')", name=op.f("ck_memberships_role")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_memberships_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)
    _legacy_course()

    # Submissions first let go of the assignment's old key, so that PostgreSQL can replace it.
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(op.f("fk_submissions_assignment_id_assignments"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_submissions_assignment_id_student_id_attempt"), type_="unique")
        batch.drop_index(op.f("ix_submissions_assignment_id"))
        batch.add_column(sa.Column("course_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("course_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("late_penalty", sa.JSON(), nullable=True))
    op.execute(sa.text("UPDATE assignments SET course_id = :course").bindparams(course=LEGACY_COURSE))
    op.execute(sa.text("UPDATE submissions SET course_id = :course").bindparams(course=LEGACY_COURSE))
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column("course_id", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint(op.f("pk_assignments"), type_="primary")
        batch.create_primary_key(op.f("pk_assignments"), ["course_id", "id"])
        batch.create_foreign_key(
            op.f("fk_assignments_course_id_courses"), "courses", ["course_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("course_id", existing_type=sa.String(length=64), nullable=False)
        batch.create_foreign_key(
            op.f("fk_submissions_course_id_assignments"),
            "assignments",
            ["course_id", "assignment_id"],
            ["course_id", "id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_submissions_course_id_assignment_id_student_id_attempt"),
            ["course_id", "assignment_id", "student_id", "attempt"],
        )

    op.create_table(
        "extensions",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("granted_by", sa.String(length=64), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_attempts IS NULL OR max_attempts >= 1", name=op.f("ck_extensions_max_attempts_positive")
        ),
        sa.ForeignKeyConstraint(
            ["course_id", "assignment_id"],
            ["assignments.course_id", "assignments.id"],
            name=op.f("fk_extensions_course_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_extensions_student_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_extensions_granted_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("course_id", "assignment_id", "student_id", name=op.f("pk_extensions")),
    )

    with op.batch_alter_table("users") as batch:
        batch.drop_column("on_roster")
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), "role IN ('admin', 'instructor', 'student')")


def _legacy_course() -> None:
    """The single course the data belonged to, with its people as members (nothing on a fresh database)."""
    bind = op.get_bind()
    people = bind.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
    work = bind.execute(sa.text("SELECT count(*) FROM assignments")).scalar_one()
    if not people and not work:
        return
    owner = bind.execute(
        sa.text("SELECT id FROM users WHERE role = 'instructor' ORDER BY created_at, id LIMIT 1")
    ).scalar()
    bind.execute(
        sa.text(
            "INSERT INTO courses (id, title, created_by, created_at) VALUES (:id, :title, :owner, CURRENT_TIMESTAMP)"
        ),
        {"id": LEGACY_COURSE, "title": LEGACY_TITLE, "owner": owner},
    )
    bind.execute(
        sa.text(
            "INSERT INTO memberships (course_id, user_id, role, joined_at) "
            "SELECT :course, id, CASE WHEN id = :owner THEN 'owner' WHEN role = 'instructor' THEN 'instructor' "
            "ELSE 'student' END, created_at FROM users WHERE role = 'instructor' OR on_roster"
        ),
        {"course": LEGACY_COURSE, "owner": owner},
    )


def downgrade() -> None:
    """Back to one course: only the ``default`` course's rows survive (the single-course schema
    cannot hold another's), and its members are the roster."""
    bind = op.get_bind()
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.add_column(sa.Column("on_roster", sa.Boolean(), server_default=sa.true(), nullable=False))
    bind.execute(
        sa.text(
            "UPDATE users SET on_roster = (role <> 'student' OR EXISTS (SELECT 1 FROM memberships m "
            "WHERE m.user_id = users.id AND m.course_id = :course))"
        ),
        {"course": LEGACY_COURSE},
    )
    bind.execute(sa.text("UPDATE users SET role = 'instructor' WHERE role = 'admin'"))
    with op.batch_alter_table("users") as batch:
        batch.create_check_constraint(op.f("ck_users_role"), "role IN ('instructor', 'student')")
    op.drop_table("extensions")
    bind.execute(sa.text("DELETE FROM submissions WHERE course_id <> :course"), {"course": LEGACY_COURSE})
    bind.execute(sa.text("DELETE FROM assignments WHERE course_id <> :course"), {"course": LEGACY_COURSE})
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(op.f("uq_submissions_course_id_assignment_id_student_id_attempt"), type_="unique")
        batch.drop_constraint(op.f("fk_submissions_course_id_assignments"), type_="foreignkey")
        batch.drop_column("course_id")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("fk_assignments_course_id_courses"), type_="foreignkey")
        batch.drop_constraint(op.f("pk_assignments"), type_="primary")
        batch.create_primary_key(op.f("pk_assignments"), ["id"])
        batch.drop_column("course_id")
        batch.drop_column("late_penalty")
    with op.batch_alter_table("submissions") as batch:
        batch.create_foreign_key(
            op.f("fk_submissions_assignment_id_assignments"),
            "assignments",
            ["assignment_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_submissions_assignment_id_student_id_attempt"), ["assignment_id", "student_id", "attempt"]
        )
        batch.create_index(op.f("ix_submissions_assignment_id"), ["assignment_id"], unique=False)
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("courses")
