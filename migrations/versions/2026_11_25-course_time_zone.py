"""courses.time_zone: the IANA zone a course's pages show and read dates in

Every course made before this revision is in UTC, the zone its pages have always used. Going
down drops the column: the instants stored are UTC either way, only how pages show them changes.

Revision ID: 0020_course_time_zone
Revises: 0019_lti_signed_login_state
Create Date: 2026-11-25 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_course_time_zone"
down_revision: str | None = "0019_lti_signed_login_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.drop_column("time_zone")
