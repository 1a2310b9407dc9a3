"""link_downloads: newly issued sign-in links as a CSV file, downloaded once by their issuer

Ciphertext only (the key is in the issuing page, never stored), deleted when downloaded; a row
past ``expires_at`` is never served and is deleted by the next issue. Going down drops the table:
files not downloaded yet are lost, the links themselves keep working.

Revision ID: 0024_link_downloads
Revises: 0023_grades_released_parts
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_link_downloads"
down_revision: str | None = "0023_grades_released_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "link_downloads",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_link_downloads_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_link_downloads_created_by_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_downloads")),
    )
    op.create_index(op.f("ix_link_downloads_expires_at"), "link_downloads", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_link_downloads_expires_at"), table_name="link_downloads")
    op.drop_table("link_downloads")
