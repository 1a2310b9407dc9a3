"""similarity_documents.fingerprints, .same_as: a module's fingerprints stored once per submission

A module sent once answers each part of its problem: its fingerprints were stored under each part
(four times for the four-function homework), read back one row per fingerprint, and a pair was
described by lexing its texts again. Now a text is stored once, under its first part, with every
fingerprint and its place in one row (``fingerprints``: hash, k-gram's start, first and last
line), and the other parts it answers name that part (``same_as``). The index written before is
deleted on the way up: the next report fingerprints each submission again, once. On the way down
each part gets its own fingerprints and words again, copied from the part it named.

Revision ID: 0037_similarity_once
Revises: 0036_similarity
Create Date: 2026-11-28 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_similarity_once"
down_revision: str | None = "0036_similarity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM similarity_prints")
    op.execute("DELETE FROM similarity_documents")
    with op.batch_alter_table("similarity_documents") as batch:
        batch.add_column(sa.Column("fingerprints", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("same_as", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.execute(
        "INSERT INTO similarity_prints (submission_id, part, hash, course_id, assignment_id) "
        "SELECT d.submission_id, d.part, p.hash, d.course_id, d.assignment_id "
        "FROM similarity_documents d JOIN similarity_prints p "
        "ON p.submission_id = d.submission_id AND p.part = d.same_as WHERE d.same_as IS NOT NULL"
    )
    op.execute(
        "UPDATE similarity_documents SET words = (SELECT o.words FROM similarity_documents o "
        "WHERE o.submission_id = similarity_documents.submission_id AND o.part = similarity_documents.same_as) "
        "WHERE same_as IS NOT NULL"
    )
    with op.batch_alter_table("similarity_documents") as batch:
        batch.drop_column("same_as")
        batch.drop_column("fingerprints")
