"""The pure part of a launch's decision: course roles from the claims (no database, no HTTP)."""

from __future__ import annotations

import pytest

from api.lti.claims import course_role
from api.models import CourseRole

M = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ([M + "Instructor"], CourseRole.INSTRUCTOR),
        ([M + "TeachingAssistant"], CourseRole.TA),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], CourseRole.TA),
        ([M + "Learner"], CourseRole.STUDENT),
        (["Learner"], CourseRole.STUDENT),  # the deprecated short form
        (["Instructor"], CourseRole.INSTRUCTOR),
        # Canvas: a student also holds an institution Instructor role; only the context role counts
        ([INSTITUTION + "Instructor", INSTITUTION + "Student", M + "Learner"], CourseRole.STUDENT),
        ([INSTITUTION + "Instructor", SYSTEM + "Administrator"], None),
        ([M + "Learner", M + "Instructor"], CourseRole.INSTRUCTOR),  # the highest wins
        ([M + "Learner", M + "TeachingAssistant"], CourseRole.TA),
        ([M + "Mentor"], None),
        ([], None),
    ],
)
def test_course_roles_come_from_the_context_membership_only(roles, expected) -> None:
    assert course_role(roles) == expected
