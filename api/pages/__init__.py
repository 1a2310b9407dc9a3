"""The pages: server-rendered HTML on the same service as the REST API, for students and staff.

The pages are grouped by who reads them, each group with its templates beside it
(``students/templates/``...), over the kit they share (an import-linter contract keeps the kit
below the groups):

* ``kit/``: what every page uses. ``assets.py``, the static files (``kit/static/``: our one
  stylesheet ``grader.css``, and ``static/vendor/``, htmx, KaTeX and Swagger UI copied unchanged
  from npm with their licences and ``MANIFEST.json``), served under ``/static/<digest>/`` with a
  year-long cache, linked from templates with ``asset("grader.css")``: no CDN, no build step.
  ``sessions.py``: signing in by pasting an API token opens a session stored in the database
  (only a hash of its id; cookie HttpOnly, SameSite=Lax, Secure over HTTPS) and its CSRF token.
  ``deps.py``: the page dependencies, built on the API's own access rules (:mod:`api.access`):
  ``SignedInDep`` (the session; no session: redirect to ``/``), ``CsrfChecked`` (every POST
  depends on it: the hidden ``csrf`` field, or htmx's ``X-CSRF-Token`` header; else 403),
  ``PageMember`` (404 for another course, as in the API), ``PageAssignment``, ``PageTerms``
  (with the caller's extension); ``roles.py`` gives ``PageStaff`` and ``PageRunner``, the API's
  role checks; ``forms.py`` the posted form once its CSRF token is checked, and an uploaded
  file's text. ``routing.py``: ``PageRoute``, the route class of every page router: the API's
  domain errors (:mod:`api.kit.errors`) become an HTML page with the same status.
  ``render.py``: ``render(request, "x.html", context)``, one template per page extending
  ``base.html`` (header with who is signed in, skip link, ``main``); a fragment htmx swaps in is a
  small template (``_name.html``) that the page includes too, so the first render and the live
  update are the same markup; templates load the scripts they need in ``{% block scripts %}``,
  and a page without one loads no JavaScript. ``notation.py``: statements, readings and answers as
  HTML, matrices marked for KaTeX (``{{ text|math }}``; ``static/grader.js`` typesets them);
  ``local_time.py`` shows dates in the course's zone and reads the times typed in its forms;
  ``charts.py`` draws charts as inline SVG; ``validation.py`` says pydantic's refusals in words.
* ``students/``: ``pages.py`` (``/courses/{course}`` and ``/courses/{course}/assignments/{id}``:
  a student's views; staff get the dashboard and the statements with reference answers), with
  ``assignment_view.py`` gathering what an assignment page shows; ``code_parts.py`` (a code part's
  upload and its live result); ``practice.py`` (fresh variants once nobody can still submit);
  ``timed.py`` (a timed assignment's Start button, the time left, the draft saved as typed).
* ``staff/``: ``dashboard.py`` (a course's assignments, the create-assignment form, the archived
  ones, the roster and its CSV import, with ``course_summary.py`` and ``roster_csv.py``);
  ``courses.py`` (``/courses/new`` and a course's settings); ``assignment_edit.py`` (every field
  of an assignment, "move and regrade", archive and restore, with ``assignment_form.py``);
  ``problem_sets.py`` (the library, set upload, variant preview, with ``set_issues.py``);
  ``gradebook.py`` (sorted on the server by ``gradebook_table.py``, its downloads, extensions,
  one student's attempts); ``course_gradebook.py`` (every assignment of the course by category,
  with the weighted total and its downloads); ``statistics.py`` (charts of what ``stats_view.py`` arranges, and the
  regrade job with its progress); ``handgrading.py`` (the queue of a written part graded by rubric
  with the keyboard script ``static/grading.js``; release, the rubric editor, regrade requests).
* ``lms/``: ``platforms.py`` (the admins' LMS platforms and dynamic-registration URL,
  ``/admin/lti``; a course's LMS links and grade passback, ``/courses/{course}/lti``),
  ``launch.py`` (the endpoints platforms and browsers reach) and ``registration.py``.
* ``accounts/``: ``home.py`` (``/``, ``/sign-in``, ``/sign-out``), ``sign_in_links.py`` and
  ``link_downloads.py`` (one-time links, asked for by mail or issued by staff), ``tokens.py``
  (``/account``: one's own API tokens), ``demo.py`` (one-click sign-in, under ``--demo`` only),
  ``docs.py`` (``/docs``: Swagger UI).

Adding a page: a router with ``route_class=PageRoute`` and ``include_in_schema=False``, routes
that take ``PageMember``/``PageAssignment`` and call the services of ``api/*/service.py`` (never a
copy of their rules), a template extending ``base.html``, and the router listed in
:data:`ROUTERS`. Forms post with ``<input type="hidden" name="csrf" value="{{ page.csrf }}">``
and work without JavaScript; htmx requests carry the header set on ``<body>``.

The REST routers never import this package (an import-linter contract).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.pages.accounts import demo, docs, home, sign_in_links, staff_accounts, tokens
from api.pages.kit import assets
from api.pages.lms import platforms
from api.pages.staff import (
    accommodations,
    assignment_edit,
    course_gradebook,
    courses,
    dashboard,
    gradebook,
    handgrading,
    problem_sets,
    proctor,
    similarity,
    statistics,
)
from api.pages.students import code_parts, pages, practice, timed

#: Every router of the pages, included by :func:`install`.
ROUTERS: tuple[APIRouter, ...] = (
    # (``/courses/new`` before the course pages' ``/courses/{course_id}``)
    *(home.router, demo.router, docs.router, courses.router, pages.router, practice.router, sign_in_links.router),
    *(tokens.router, dashboard.router, problem_sets.router, gradebook.router, handgrading.router, statistics.router),
    *(assignment_edit.router, platforms.router, code_parts.router, staff_accounts.router),
    *(course_gradebook.router, timed.router, accommodations.router, proctor.router),
    similarity.router,
)


def install(app: FastAPI) -> None:
    """Mounts the static files and includes the pages (``create_app`` calls it)."""
    app.mount(assets.prefix(), assets.static_app(), name="static")
    for router in ROUTERS:
        app.include_router(router)
