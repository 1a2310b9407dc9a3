"""The checks of an LTI 1.3 launch (1EdTech Security Framework §5.1.3, LTI Core §5.3, Deep Linking
§4.4), as one pure function: :func:`check_launch` takes the id_token's claims, whose signature has
been verified, what the tool expects of them, and the time; it returns a :class:`Launch` or a
:class:`Refused` naming the check that failed. No I/O, no database: every check is tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from api.models import CourseRole

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
MESSAGE_TYPES = frozenset({RESOURCE_LINK, DEEP_LINKING})

#: The custom parameters the tool's registration asks for (``docs/lti.md``), each mapped to the LMS's
#: variable; the due dates a launch gives, read in this order (:mod:`api.lti.dates`).
CUSTOM_DATES = {
    "due_at": "$Canvas.assignment.dueAt.iso8601",
    "submission_end_at": "$ResourceLink.submission.endDateTime",
}

#: Seconds of clock difference allowed on ``exp`` and ``iat``.
LEEWAY = 60
#: An id_token issued longer ago than this is refused even if its ``exp`` is later.
MAX_AGE = 3600

_CONTEXT_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
#: Context roles and sub-roles, full or short (LTI Core §A.2.2; the short forms are deprecated but
#: sent); the highest found wins. Institution and system roles are never course roles: Canvas sends
#: students an *institution* ``Instructor`` role.
_ROLES = {
    "Instructor": CourseRole.INSTRUCTOR,
    "Administrator": CourseRole.INSTRUCTOR,
    "ContentDeveloper": CourseRole.INSTRUCTOR,
    "TeachingAssistant": CourseRole.TA,
    "Instructor#TeachingAssistant": CourseRole.TA,
    "Learner": CourseRole.STUDENT,
}
_RANK = [CourseRole.INSTRUCTOR, CourseRole.TA, CourseRole.STUDENT]
#: Canvas's Student View user, and any platform's test user (LTI Core §A.2.4).
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"


def course_role(roles: list[str]) -> CourseRole | None:
    """The course role of the context roles (``membership``) only; None if there is none."""
    found = set()
    for role in roles:
        if role.startswith(_CONTEXT_ROLE):
            name = role.removeprefix(_CONTEXT_ROLE)
        elif role.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/"):
            name = role.rsplit("/", 1)[-1]  # a sub-role: .../membership/Instructor#TeachingAssistant
        elif "/" not in role and ":" not in role:
            name = role  # the short form
        else:
            continue  # an institution or system role
        if name in _ROLES:
            found.add(_ROLES[name])
    return next((role for role in _RANK if role in found), None)


@dataclass(frozen=True, slots=True)
class Expected:
    """What the launch must match: the registered platform, and the nonce of its login's state."""

    issuer: str
    client_id: str
    deployments: frozenset[str]
    nonce: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A failed check: ``check`` names it (``aud``, ``exp``, ``nonce``, ...), ``detail`` says why."""

    check: str
    detail: str


@dataclass(frozen=True, slots=True)
class Launch:
    """An accepted launch: who, from which LMS course, in which role, asking for what."""

    message_type: str
    sub: str
    deployment_id: str
    name: str | None
    email: str | None
    role: CourseRole | None
    test_user: bool
    context_id: str | None
    context_title: str | None
    resource_link_id: str | None
    custom: dict[str, Any] = field(default_factory=dict)
    #: Deep linking: the settings (``deep_link_return_url``, ``data``, ...).
    deep_linking: dict[str, Any] = field(default_factory=dict)
    #: The AGS and NRPS claims, as sent (for grade passback and the roster).
    ags: dict[str, Any] = field(default_factory=dict)
    nrps: dict[str, Any] = field(default_factory=dict)
    return_url: str | None = None


def storable(text: str) -> bool:
    """No NUL, other control character or lone surrogate (no database stores them all)."""
    return not any((ord(c) < 32 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def _text(value: Any, limit: int = 255) -> str | None:
    """A claim's string, if it is one of at most ``limit`` characters the database can store."""
    return value if isinstance(value, str) and 0 < len(value) <= limit and storable(value) else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_launch(claims: Mapping[str, Any], expected: Expected, *, now: float) -> Launch | Refused:
    """Every check of the claims of a signed id_token, in order; the first that fails decides."""
    version = claims.get(LTI + "version")
    if version != "1.3.0":
        return Refused("version", f"The launch is LTI version {version!r}; this tool speaks 1.3.0.")
    message_type = claims.get(LTI + "message_type")
    if message_type not in MESSAGE_TYPES:
        return Refused("message_type", f"The message type {message_type!r} is not one this tool accepts.")
    if claims.get("iss") != expected.issuer:
        return Refused("iss", "The token's issuer is not the platform whose login started this launch.")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if expected.client_id not in audiences:
        return Refused("aud", "The token is not addressed to this tool (its audience lacks our client id).")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != expected.client_id:
        return Refused("azp", "The token's authorized party is not this tool's client id.")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + LEEWAY < now:
        return Refused("exp", "The token has expired (or states no expiry).")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat - LEEWAY > now or iat + MAX_AGE < now:
        return Refused("iat", "The token's issue time is in the future or too long ago.")
    if claims.get("nonce") != expected.nonce:
        return Refused("nonce", "The token's nonce is not the one of this login (a replayed launch?).")
    deployment = claims.get(LTI + "deployment_id")
    if not isinstance(deployment, str) or deployment not in expected.deployments:
        return Refused("deployment_id", f"The deployment {deployment!r} is not registered for this platform.")
    sub = _text(claims.get("sub"))
    if sub is None:
        return Refused("sub", "The token names no user (sub).")
    roles_claim = claims.get(LTI + "roles")
    if not isinstance(roles_claim, list) or not all(isinstance(r, str) for r in roles_claim):
        return Refused("roles", "The token's roles claim is missing or not a list of strings.")
    context = _object(claims.get(LTI + "context"))
    resource_link = _object(claims.get(LTI + "resource_link"))
    deep_linking = _object(claims.get(DL + "deep_linking_settings"))
    if message_type == RESOURCE_LINK and _text(resource_link.get("id")) is None:
        return Refused("resource_link", "A resource-link launch must name its resource link.")
    if message_type == DEEP_LINKING and _text(deep_linking.get("deep_link_return_url"), 2000) is None:
        return Refused("deep_linking_settings", "A deep-linking request must give its deep_link_return_url.")
    return Launch(
        message_type=message_type,
        sub=sub,
        deployment_id=deployment,
        name=_text(claims.get("name"), 200),
        email=_text(claims.get("email"), 320),
        role=course_role(roles_claim),
        test_user=TEST_USER in roles_claim,
        context_id=_text(context.get("id")),
        context_title=_text(context.get("title"), 200),
        resource_link_id=_text(resource_link.get("id")),
        custom=_object(claims.get(LTI + "custom")),
        deep_linking=deep_linking,
        ags=_object(claims.get(AGS)),
        nrps=_object(claims.get(NRPS)),
        return_url=_text(_object(claims.get(LTI + "launch_presentation")).get("return_url"), 2000),
    )
