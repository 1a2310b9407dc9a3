"""assignments: opens_at, closes_at, published, archived_at; extensions.closes_at; answers released
after the close by default

An assignment now opens (``opens_at``: before it students neither see nor open it), may be a draft
(``published`` false: staff only), closes (``closes_at``: the last moment a submission is
accepted, late ones included; an extension may move one student's) and may be archived
(``archived_at``: hidden from students, nothing deleted). Every assignment made before this
revision is published, open, never closes and is not archived: as before.

``release_answers`` gains ``after_close`` (once the assignment is closed for everyone, extensions
included) and ``after_attempts`` (to each student with no attempt left or a full score).
Assignments that released their answers ``after_due`` did so while late work was still accepted
(nothing closed an assignment): a late or extended student saw the answers beside open inputs.
They move to ``after_close``: their answers are shown once the instructor sets a close date and it
passes (never before). Going down, ``after_close`` becomes ``after_due`` and ``after_attempts``
``never`` (the nearest the old rules can say without showing answers earlier), and the new columns
are dropped.

Revision ID: 0021_assignment_schedule
Revises: 0020_course_time_zone
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_assignment_schedule"
down_revision: str | None = "0020_course_time_zone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "release_answers IN ('never', 'after_due', 'immediately')"
NEW = "release_answers IN ('never', 'after_due', 'after_close', 'after_attempts', 'immediately')"
CLOSES_AFTER_DUE = "closes_at IS NULL OR due_at IS NULL OR closes_at >= due_at"
OPENS_BEFORE_CLOSE = "opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at"
ASSIGNMENTS = sa.table("assignments", sa.column("release_answers", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_release_answers"), type_="check")
    op.execute(
        ASSIGNMENTS.update().where(ASSIGNMENTS.c.release_answers == "after_due").values(release_answers="after_close")
    )
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(op.f("ck_assignments_release_answers"), NEW)
        batch.create_check_constraint(op.f("ck_assignments_closes_after_due"), CLOSES_AFTER_DUE)
        batch.create_check_constraint(op.f("ck_assignments_opens_before_close"), OPENS_BEFORE_CLOSE)
    with op.batch_alter_table("extensions") as batch:
        batch.add_column(sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("extensions") as batch:
        batch.drop_column("closes_at")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_constraint(op.f("ck_assignments_opens_before_close"), type_="check")
        batch.drop_constraint(op.f("ck_assignments_closes_after_due"), type_="check")
        batch.drop_constraint(op.f("ck_assignments_release_answers"), type_="check")
        batch.drop_column("archived_at")
        batch.drop_column("published")
        batch.drop_column("closes_at")
        batch.drop_column("opens_at")
    for new, old in (("after_close", "after_due"), ("after_attempts", "never")):
        op.execute(ASSIGNMENTS.update().where(ASSIGNMENTS.c.release_answers == new).values(release_answers=old))
    with op.batch_alter_table("assignments") as batch:
        batch.create_check_constraint(op.f("ck_assignments_release_answers"), OLD)
