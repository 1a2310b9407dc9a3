"""grade passback follows held-back feedback: lti_scores.score_given may be null, lti_scores.submitted_at
and assignments.scores_released_at

A score row without ``score_given`` tells the LMS only that an attempt was submitted (``feedback:
none`` before the answers are released to its student). ``submitted_at`` is the counted submission's
time (AGS's ``submission.submittedAt``); rows written before this revision have none. An assignment's
``scores_released_at`` is when its held-back scores were sent at the release of its answers: an
assignment that had closed for everyone before this revision has had its scores sent already (they
were sent as they changed), so it is marked released at its close, and nothing is sent again.

Going down drops the columns; score rows without a score are deleted first (a column that cannot be
null again cannot hold them), which sends nothing: they said only "submitted".

Revision ID: 0030_held_back_passback
Revises: 0029_submission_scores
Create Date: 2026-11-27 21:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0030_held_back_passback"
down_revision: str | None = "0029_submission_scores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_assignments = sa.table(
    "assignments",
    sa.column("closes_at", sa.DateTime(timezone=True)),
    sa.column("scores_released_at", sa.DateTime(timezone=True)),
)
_scores = sa.table("lti_scores", sa.column("score_given", sa.Float()))


def upgrade() -> None:
    with op.batch_alter_table("lti_scores") as batch:
        batch.alter_column("score_given", existing_type=sa.Float(), nullable=True)
        batch.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("scores_released_at", sa.DateTime(timezone=True), nullable=True))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # (SQLite keeps UTC naive: api.models.UTCDateTime)
    closed = _assignments.c.closes_at.is_not(None) & (_assignments.c.closes_at < now)
    op.execute(_assignments.update().where(closed).values(scores_released_at=_assignments.c.closes_at))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("scores_released_at")
    op.execute(_scores.delete().where(_scores.c.score_given.is_(None)))
    with op.batch_alter_table("lti_scores") as batch:
        batch.drop_column("submitted_at")
        batch.alter_column("score_given", existing_type=sa.Float(), nullable=False)
