"""The tool's endpoints that platforms and browsers reach (not in the OpenAPI document):

* ``/lti/login`` (GET or POST): OIDC third-party initiated login → 302 to the platform, with a
  state signed by the tool and bound to this browser by a cookie (:mod:`api.lti.logins`); nothing
  is stored.
* ``/lti/launch`` (POST ``id_token``, ``state``): every check, then the next step: the link form
  for an unlinked LMS course's instructor, "not ready yet" for anyone else there, the assignments
  to choose for a deep-linking request, or, for a resource link, a session and the assignment.
  The platform's key set may have to be fetched meanwhile: no session is held while it is.
* ``/lti/continue/{launch}``: a resource-link launch goes on into the service. In a frame (where
  the platform may block our cookie and our pages refuse to be framed) it offers to open in a new
  window, where the launch id opens a session, once.
* ``/lti/link``, ``/lti/deep-link`` (POST): the forms a launch shows. Their credential is the
  launch's id in the form (random, one hour, bound to the account): no cookie is needed in a
  frame.
* ``/lti/jwks``: the tool's public keys; ``/lti/platforms/{id}/config``: Canvas's developer-key JSON.

Every refusal is a 4xx page that says which check failed; none opens a session. LTI's session
cookie is ``SameSite=None; Secure; Partitioned`` (set by a cross-site POST, read in a frame).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, replace
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.access import RUNS
from api.assignments.service import list_assignments, max_score
from api.deps import SessionDep, request_session
from api.kit.db import reads_only, writes
from api.kit.ids import may_exist
from api.kit.public_url import public_url
from api.library.course_sets import Sets
from api.lti import dates, keys, logins, service
from api.lti.ags import dates_of
from api.lti.claims import CUSTOM_DATES, DEEP_LINKING, DL, LTI, Expected, Launch, Refused, check_launch, storable
from api.lti.keysets import MAX_ID_TOKEN_CHARS, BadSignature, KeySets
from api.lti.urls import JWKS_PATH, LAUNCH_PATH, LOGIN_PATH
from api.models import Course, CourseRole, DatesFrom, LtiLaunch, SessionOrigin, User
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.kit.sessions import LIFETIME, SESSION_COOKIE, open_account_session
from api.users.tokens import hash_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)

URL_CHARS = 2000
#: A frame's name as platforms send it in ``lti_storage_target``.
STORAGE_TARGET = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: The message type of a launch waiting for its state from the platform's storage.
STORAGE_CHECK = "storage"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else None


def _framed_by(response: Response, origins: list[str | None], *, form_to: str | None = None) -> Response:
    """An LTI page the platform may frame (``frame-ancestors`` its origins), whose forms post here
    (and, for the deep-linking answer, to the platform's return URL)."""
    ancestors = " ".join(dict.fromkeys(o for o in origins if o)) or "'none'"
    actions = " ".join(filter(None, ["'self'", _origin(form_to)]))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"form-action {actions}; frame-ancestors {ancestors}; base-uri 'none'"
    )
    return response


def refusal(request: Request, status: int, check: str, detail: str) -> Response:
    """A 4xx page naming the check that failed (and no session)."""
    return render(request, "lti_refused.html", {"status": status, "check": check, "detail": detail}, status=status)


def _keysets(request: Request) -> KeySets:
    return request.app.state.lti_keysets


# ---- login -----------------------------------------------------------------------------------


def _login(request: Request, db: Any, values: dict[str, str | None]) -> Response:
    for name in ("iss", "login_hint", "target_link_uri"):
        if not values.get(name):
            return refusal(request, 400, name, f"The login request lacks {name}.")
    for name, value in values.items():
        if value is not None and not storable(value):
            return refusal(request, 400, name, f"The login request's {name} holds characters no id or URL has.")
    iss, target = values["iss"], values["target_link_uri"]
    assert iss is not None and target is not None
    deployment = values.get("lti_deployment_id")
    found = service.login_platform(db, issuer=iss, client_id=values.get("client_id"), deployment_id=deployment)
    if isinstance(found, service.Unresolved):
        return refusal(request, 400, found.check, found.detail)
    platform = found
    if deployment and deployment not in service.launch_deployments(platform, deployment):
        return refusal(request, 400, "lti_deployment_id", "This deployment is not registered for the platform.")
    if _origin(target) != _origin(public_url(request)):
        return refusal(request, 400, "target_link_uri", "The target link is not an address of this tool.")
    target = values.get("lti_storage_target")
    if target is not None and not STORAGE_TARGET.fullmatch(target):
        return refusal(request, 400, "lti_storage_target", "The platform's storage frame name is malformed.")
    try:
        kek = request.app.state.settings.lti_key
        state, login = logins.new_state(kek=kek, platform_id=platform.id, storage_target=target)
    except keys.KeysUnavailable as error:
        return refusal(request, 409, "GRADER_LTI_KEY", error.detail)
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": public_url(request) + LAUNCH_PATH,
        "login_hint": values["login_hint"],
        "state": state,
        "nonce": login.nonce,
    }
    if values.get("lti_message_hint"):
        params["lti_message_hint"] = values["lti_message_hint"]
    parts = urlsplit(platform.auth_url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    onward = urlunsplit(parts._replace(query=query))
    if target is None:
        response = RedirectResponse(onward, status_code=302)
        logins.bind(response, request, state)
        return response
    # Platform storage: the state is kept in the platform's frame (our cookies may be blocked
    # there), and read back at the launch to bind it to this browser.
    context = {"mode": "put", "target": target, "origin": _origin(platform.auth_url), "state": state, "next": onward}
    return _framed_by(render(request, "lti_storage.html", context), [_origin(platform.auth_url), _origin(iss)])


class LoginParams(BaseModel):
    """The OIDC third-party initiated login's parameters, by GET or by POST (others are ignored:
    platforms add their own)."""

    iss: str | None = Field(default=None, max_length=URL_CHARS)
    login_hint: str | None = Field(default=None, max_length=URL_CHARS)
    target_link_uri: str | None = Field(default=None, max_length=URL_CHARS)
    lti_message_hint: str | None = Field(default=None, max_length=URL_CHARS)
    client_id: str | None = Field(default=None, max_length=URL_CHARS)
    lti_deployment_id: str | None = Field(default=None, max_length=URL_CHARS)
    lti_storage_target: str | None = Field(default=None, max_length=URL_CHARS)


@router.get(LOGIN_PATH)
def login_get(request: Request, db: SessionDep, params: Annotated[LoginParams, Query()]) -> Response:
    """OIDC third-party initiated login (GET)."""
    return _login(request, db, params.model_dump())


@router.post(LOGIN_PATH)
@reads_only
def login_post(request: Request, db: SessionDep, params: Annotated[LoginParams, Form()]) -> Response:
    """OIDC third-party initiated login (POST)."""
    return _login(request, db, params.model_dump())


# ---- launch ----------------------------------------------------------------------------------


def set_lti_session_cookie(response: Response, session_id: str) -> None:
    """Sent by the platform's cross-site POST and read inside its frame: ``SameSite=None``, hence
    ``Secure``, and ``Partitioned`` (CHIPS) so that browsers blocking third-party cookies keep it
    for this platform's frames."""
    # Written out: the standard library's cookies learn Partitioned only in Python 3.14.
    max_age = int(LIFETIME.total_seconds())
    cookie = f"{SESSION_COOKIE}={session_id}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=None; Secure; Partitioned"
    response.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))


@router.post(LAUNCH_PATH)
async def launch(
    request: Request,
    id_token: Annotated[str, Form(max_length=MAX_ID_TOKEN_CHARS)],
    state: Annotated[str, Form(max_length=logins.MAX_STATE_CHARS)],
) -> Response:
    """The platform's launch: the state (the tool's, this browser's, used once), the signature,
    every claim; then the next step. The login's cookie goes, whatever the answer."""
    response = await _launch(request, id_token, state)
    if logins.is_bound(request, state):
        logins.unbind(response, request, state)
    return response


async def _launch(request: Request, id_token: str, state: str) -> Response:
    """Two short sessions, and none between them while the platform's key set may be fetched."""
    login = logins.read_state(state, kek=request.app.state.settings.lti_key)
    if login is None:
        return refusal(request, 400, "state", "This launch's state is not one of this tool's logins, or has expired.")
    if login.storage_target is None and not logins.is_bound(request, state):
        detail = (
            "This launch's login did not begin in this browser, or its launch came already: a launch is "
            "accepted once, in the browser that began its login."
        )
        return refusal(request, 400, "state", detail)
    async with request_session(request) as db:
        platform = await run_in_threadpool(service.get_platform, db, login.platform_id)
    if platform is None:
        return refusal(request, 400, "state", "This launch's platform is no longer registered.")
    try:
        claims = await run_in_threadpool(_keysets(request).verify, id_token, platform.jwks_url)
    except BadSignature as error:
        page = refusal(request, error.status, error.check, error.detail)
        if error.status == 503:
            page.headers["Retry-After"] = "5"
        return page
    async with request_session(request) as db:
        return await run_in_threadpool(_accept, request, db, platform, login, state, claims)


def _accept(
    request: Request,
    db: Any,
    platform: service.Platform,
    login: logins.LoginState,
    state: str,
    claims: dict[str, Any],
) -> Response:
    """The signature checked: the claims, the state used up, then the next step."""
    deployments = service.launch_deployments(platform, claims.get(LTI + "deployment_id"))
    expected = Expected(platform.issuer, platform.client_id, deployments, login.nonce)
    decision = check_launch(claims, expected, now=time.time())
    if isinstance(decision, Refused):
        return refusal(request, 401, decision.check, decision.detail)
    if not logins.use(db, state=state, login=login):
        return refusal(request, 400, "state", "This launch's state was used already.")
    service.adopt_deployment(db, platform=platform, deployment_id=decision.deployment_id)
    if login.storage_target is not None:
        return _read_back_state(request, db, platform, decision, state, login.storage_target)
    return _after_launch(request, db, platform, decision)


def _read_back_state(
    request: Request, db: Any, platform: service.Platform, launch: Launch, state: str, target: str
) -> Response:
    """A login that used the platform's storage: the page reads the state back from the platform's
    frame and posts it to ``/lti/launch/confirm``; only this browser's storage holds it."""
    user = service.account_for(db, platform=platform, launch=launch)
    pending = replace(launch, message_type=STORAGE_CHECK)
    details = {"launch": asdict(launch), "state_hash": hash_token(state)}
    launch_id = service.record_launch(db, platform=platform, user=user, launch=pending, details=details)
    origin = _origin(platform.auth_url)
    context = {"mode": "get", "target": target, "origin": origin, "state": state, "launch": launch_id}
    return _framed_by(render(request, "lti_storage.html", context), [origin, _origin(platform.issuer)])


@router.post("/lti/launch/confirm")
def confirm_launch(
    request: Request,
    db: SessionDep,
    launch: Annotated[str, Form(max_length=100)],
    value: Annotated[str, Form(max_length=logins.MAX_STATE_CHARS)] = "",
) -> Response:
    """The state read back from the platform's storage: the launch goes on if it is this launch's."""
    row = service.find_launch(db, launch_id=launch)
    if row.message_type != STORAGE_CHECK:
        return refusal(request, 400, "launch", "This launch is not waiting for the platform's storage.")
    service.end_launch(db, launch=row)
    if not value or hash_token(value) != row.details.get("state_hash"):
        return refusal(request, 401, "state", "The platform's storage does not hold this launch's state.")
    platform = service.get_platform(db, row.platform_id)
    assert platform is not None  # the launch row cascades with its platform
    saved = dict(row.details["launch"])
    accepted = Launch(**{**saved, "role": None if saved["role"] is None else CourseRole(saved["role"])})
    return _after_launch(request, db, platform, accepted)


def _details(launch: Launch) -> dict[str, Any]:
    return {
        "role": None if launch.role is None else launch.role.value,
        "deployment_id": launch.deployment_id,
        "context_title": launch.context_title,
        "resource_link_id": launch.resource_link_id,
        "custom": launch.custom,
        "deep_linking": launch.deep_linking,
        "ags": launch.ags,
        "nrps": launch.nrps,
        "return_url": launch.return_url,
    }


def _platform_origins(platform: service.Platform | None, *urls: str | None) -> list[str | None]:
    """Who may frame a launch's pages: the platform (its issuer's and its login's origins) and the
    addresses its launch named (the return URL, deep linking's)."""
    named = [_origin(url) for url in urls]
    return named if platform is None else [_origin(platform.issuer), _origin(platform.auth_url), *named]


def _after_launch(request: Request, db: Any, platform: service.Platform, launch: Launch) -> Response:
    deep_link_return = launch.deep_linking.get("deep_link_return_url")
    origins = _platform_origins(platform, launch.return_url, deep_link_return)
    if launch.context_id is None:
        page = refusal(request, 400, "context", "This tool is launched from a course (the launch names none).")
        return _framed_by(page, origins)
    user = service.account_for(db, platform=platform, launch=launch)
    course_id = service.linked_course(db, platform=platform, context_id=launch.context_id)
    if launch.test_user:  # Canvas's Student View: a preview, never a student in the gradebook
        page = render(request, "lti_preview.html", {"linked": course_id is not None})
        return _framed_by(page, origins)
    if course_id is None:
        if launch.role != CourseRole.INSTRUCTOR:
            return _framed_by(render(request, "lti_not_ready.html"), origins)
        launch_id = service.record_launch(db, platform=platform, user=user, launch=launch, details=_details(launch))
        return _framed_by(_link_form(request, db, user, launch_id, launch.context_title), origins)
    if launch.role is None:
        page = refusal(request, 403, "roles", "Your role in this LMS course gives no role here.")
        return _framed_by(page, origins)
    role = service.enrol(db, course_id=course_id, user=user, role=launch.role)
    target = _target(db, course_id, launch.custom)
    named = target.rsplit("/", 1)[-1] if "/assignments/" in target else None
    service.remember_services(db, platform=platform, launch=launch, assignment_id=named)
    if named is not None and launch.message_type != DEEP_LINKING:  # the LMS's due date, where it gives one
        where = f"from platform {platform.id} for {course_id}/{named}"
        student = role == CourseRole.STUDENT.value
        dates.from_launch(
            db,
            course_id=course_id,
            assignment_id=named,
            user_id=user.id,
            student=student,
            custom=launch.custom,
            where=where,
        )
    if launch.message_type == DEEP_LINKING:
        if role not in RUNS:
            page = refusal(request, 403, "roles", "Only the course's instructors add its assignments to the LMS.")
            return _framed_by(page, origins)
        launch_id = service.record_launch(db, platform=platform, user=user, launch=launch, details=_details(launch))
        return _framed_by(_deep_link_form(request, db, course_id, launch_id), origins)
    details = {**_details(launch), "target": target}
    launch_id = service.record_launch(db, platform=platform, user=user, launch=launch, details=details)
    session_id = open_account_session(db, user_id=user.id, via=SessionOrigin.LTI)
    response = RedirectResponse(f"/lti/continue/{launch_id}", status_code=303)
    set_lti_session_cookie(response, session_id)
    return response


def _target(db: Any, course_id: str, custom: dict[str, Any]) -> str:
    """The assignment the resource link names (``custom.assignment``), else the course."""
    wanted = custom.get("assignment")
    if isinstance(wanted, str) and wanted in {a.id for a in list_assignments(db, course_id=course_id)}:
        return f"/courses/{course_id}/assignments/{wanted}"
    return f"/courses/{course_id}"


def _link_form(request: Request, db: Any, user: User, launch_id: str, title: str | None) -> Response:
    courses = service.courses_run_by(db, user_id=user.id)
    context = {"launch": launch_id, "courses": courses, "title": title or ""}
    return render(request, "lti_link.html", context)


def _deep_link_form(request: Request, db: Any, course_id: str, launch_id: str) -> Response:
    assignments = list_assignments(db, course_id=course_id)
    return render(request, "lti_deep_link.html", {"launch": launch_id, "assignments": assignments})


# ---- what follows a launch -------------------------------------------------------------------


@router.get("/lti/continue/{launch_id}")
@writes
def continue_launch(request: Request, db: SessionDep, launch_id: str, open: bool = False) -> Response:
    """A resource-link launch goes on to its assignment. Framed, our pages would be refused: the
    page offers a new window instead, where the launch id opens a session. Either way the launch
    is used up as it goes on: its id opens nothing a second time."""
    row = service.find_launch(db, launch_id=launch_id)
    target = row.details.get("target")
    if not isinstance(target, str):
        return refusal(request, 400, "launch", "This launch does not lead to an assignment.")
    if request.headers.get("Sec-Fetch-Dest") == "iframe" and not open:
        page = render(request, "lti_continue.html", {"href": f"/lti/continue/{launch_id}?open=1"})
        platform = service.get_platform(db, row.platform_id)
        return _framed_by(page, _platform_origins(platform, row.details.get("return_url")))
    service.end_launch(db, launch=row)
    response = RedirectResponse(target, status_code=303)
    if open:  # a new window: the cookie set in the frame is not this window's
        set_lti_session_cookie(response, open_account_session(db, user_id=row.user_id, via=SessionOrigin.LTI))
    return response


def _launch_of(db: Any, launch_id: str) -> tuple[LtiLaunch, User]:
    row = service.find_launch(db, launch_id=launch_id)
    user = db.get(User, row.user_id)
    assert user is not None  # the launch row cascades with its account
    return row, user


@router.post("/lti/link")
def link(
    request: Request,
    db: SessionDep,
    launch: Annotated[str, Form(max_length=100)],
    course: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Links the LMS course to the chosen course (or a new one), then goes on with the launch."""
    row, user = _launch_of(db, launch)
    course_id = service.link_course(db, launch=row, user=user, course=course, title=title)
    service.enrol(db, course_id=course_id, user=user, role=CourseRole.INSTRUCTOR)
    deep_link_url = row.details.get("deep_linking", {}).get("deep_link_return_url")
    origins = [_origin(row.details.get("return_url")), _origin(deep_link_url)]
    if row.message_type == DEEP_LINKING:
        return _framed_by(_deep_link_form(request, db, course_id, launch), origins)
    row.details = {**row.details, "target": _target(db, course_id, row.details.get("custom") or {})}
    db.flush()
    response = RedirectResponse(f"/lti/continue/{launch}", status_code=303)
    set_lti_session_cookie(response, open_account_session(db, user_id=user.id, via=SessionOrigin.LTI))
    return response


@router.post("/lti/deep-link")
def deep_link(
    request: Request,
    db: SessionDep,
    launch: Annotated[str, Form(max_length=100)],
    assignment: Annotated[list[str] | None, Form(max_length=100)] = None,
) -> Response:
    """The chosen assignments as ``ltiResourceLink`` items, signed by the tool's key, posted back to
    the platform's ``deep_link_return_url`` by the page (a button without JavaScript)."""
    row = service.find_launch(db, launch_id=launch)
    if row.message_type != DEEP_LINKING or row.details.get("role") != CourseRole.INSTRUCTOR.value:
        return refusal(request, 403, "roles", "Only an instructor's deep-linking launch adds assignments.")
    platform = service.get_platform(db, row.platform_id)
    course_id = service.linked_course(db, platform=platform, context_id=row.context_id) if platform else None
    if platform is None or course_id is None:
        return refusal(request, 400, "context", "This LMS course is not linked to a course.")
    chosen = list(dict.fromkeys(assignment or []))
    by_id = {a.id: a for a in list_assignments(db, course_id=course_id)}
    if not chosen or any(a not in by_id for a in chosen):
        return refusal(request, 400, "assignment", "Choose one or more of the course's assignments.")
    sets = Sets(request.app.state.library, db)
    course = db.get(Course, course_id)
    ours = course is not None and course.dates_from == DatesFrom.GRADER.value
    items = []
    for assignment_id in chosen:
        item = by_id[assignment_id]
        problem_set = sets.of(item)
        link: dict[str, Any] = {
            "type": "ltiResourceLink",
            "title": item.title,
            "url": public_url(request) + LAUNCH_PATH,
            "custom": {"assignment": item.id},
            "lineItem": {
                "scoreMaximum": max_score(problem_set) if problem_set else 0.0,
                "resourceId": item.id,
                "label": item.title,
            },
        }
        dates = dates_of(item.opens_at, item.due_at) if ours else {}
        if "startDateTime" in dates:  # (Deep Linking 2.0 §3.2: the resource link's dates)
            link["available"] = {"startDateTime": dates["startDateTime"]}
        if "endDateTime" in dates:
            link["submission"] = {"endDateTime": dates["endDateTime"]}
        items.append(link)
    settings = row.details.get("deep_linking", {})
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "nonce": secrets.token_hex(16),
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": row.details.get("deployment_id"),
        DL + "content_items": items,
    }
    if "data" in settings:
        claims[DL + "data"] = settings["data"]
    token = keys.sign(keys.signing_key(db, kek=request.app.state.settings.lti_key), claims)
    service.end_launch(db, launch=row)
    return_url = settings.get("deep_link_return_url")
    page = render(request, "lti_deep_link_return.html", {"return_url": return_url, "jwt": token})
    return _framed_by(page, [_origin(row.details.get("return_url")), _origin(return_url)], form_to=return_url)


# ---- published -------------------------------------------------------------------------------


@router.get(JWKS_PATH)
def jwks(db: SessionDep) -> Response:
    """The tool's public keys (the one that signs and those retired lately)."""
    return JSONResponse(keys.published(db), headers={"Cache-Control": "public, max-age=300"})


@router.get("/lti/platforms/{platform_id}/config")
def canvas_config(request: Request, db: SessionDep, platform_id: str) -> Response:
    """Canvas's developer-key JSON (Admin → Developer Keys → + LTI Key → Paste JSON)."""
    if not may_exist(platform_id) or service.get_platform(db, platform_id) is None:
        return refusal(request, 404, "platform", "No such platform.")
    base = public_url(request)
    launch_url = base + LAUNCH_PATH
    placements = [
        {"placement": "link_selection", "message_type": DEEP_LINKING, "target_link_uri": launch_url},
        {"placement": "assignment_selection", "message_type": DEEP_LINKING, "target_link_uri": launch_url},
        {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest", "target_link_uri": launch_url},
    ]
    return JSONResponse(
        {
            "title": "grader",
            "description": "Convolutional-network homework, graded on arrival.",
            "oidc_initiation_url": base + LOGIN_PATH,
            "target_link_uri": launch_url,
            "public_jwk_url": base + JWKS_PATH,
            "scopes": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
            ],
            "extensions": [
                {
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": {"placements": placements},
                }
            ],
            "custom_fields": dict(CUSTOM_DATES),
        }
    )
