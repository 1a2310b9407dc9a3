"""The dates a refusal names, in the course's time zone: a student told that their time ended, or
that the assignment closed, reads the moment as their course's pages write it, not as UTC to the
microsecond. Read only when refusing (one small query), never on the path that accepts work."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.kit.local_time import stated
from api.kit.zones import zone_named
from api.models import Course


def course_zone(session: Session, course_id: str) -> ZoneInfo:
    """The course's zone, as its pages show dates in (:func:`api.kit.zones.zone_named`)."""
    return zone_named(session.scalar(select(Course.time_zone).where(Course.id == course_id)))


def in_course_time(session: Session, course_id: str, moment: datetime) -> str:
    """``2026-12-01 23:59 CST``: ``moment`` as the course's pages write it (to the second where it
    falls between minutes)."""
    return stated(moment, course_zone(session, course_id))
