"""The pages: server-rendered HTML on the same service as the REST API, for students and staff.

Shape (one job per module):

* ``assets.py``: the static files (``static/``: our one stylesheet ``grader.css``, and
  ``static/vendor/``, htmx, KaTeX and Swagger UI copied unchanged from npm with their licences and
  ``MANIFEST.json``), served under ``/static/<digest>/`` with a year-long cache; templates
  link them with ``asset("grader.css")``. No CDN, no build step.
* ``sessions.py``: signing in by pasting an API token opens a session stored in the database
  (only a hash of its id; cookie HttpOnly, SameSite=Lax, Secure over HTTPS) and its CSRF token.
* ``deps.py``: the page dependencies, built on the API's own access rules (:mod:`api.access`):
  ``SignedInDep`` (the session; no session: redirect to ``/``), ``CsrfChecked`` (every POST
  depends on it: the hidden ``csrf`` field, or htmx's ``X-CSRF-Token`` header; else 403),
  ``PageMember`` (404 for another course, as in the API), ``PageAssignment``, ``PageTerms``
  (with the caller's extension). Role checks use :class:`api.access.Member` (``runs``,
  ``is_staff``).
* ``routing.py``: ``PageRoute``, the route class of every page router: the API's domain errors
  (:mod:`api.errors`) become an HTML page with the same status.
* ``render.py``: ``render(request, "x.html", context)``, one template per page in
  ``templates/`` extending ``base.html`` (header with who is signed in, skip link, ``main``);
  a fragment htmx swaps in is a small template (``_name.html``) that the page includes too, so
  the first render and the live update are the same markup. Templates load the scripts they
  need in ``{% block scripts %}`` (``asset("vendor/htmx/htmx.min.js")``); a page without one
  loads no JavaScript.
* ``notation.py``: statements, readings and answers as HTML, matrices marked for KaTeX
  (``{{ text|math }}`` in templates; ``static/grader.js`` typesets them, and only pages that
  show a matrix load KaTeX); ``render.py`` also gives the filters ``when`` (a date in the
  course's time zone, its abbreviation named) and ``points``; ``local_time.py`` shows dates in a
  zone and reads the wall-clock times typed in the forms' ``datetime-local`` inputs in it (the
  zone of the course in the path: ``PageZone``).
* one router module per group of pages: ``home.py`` (``/``, ``/sign-in``, ``/sign-out``),
  ``demo.py`` (``/demo/sign-in``: one click signs in as a demo account, under ``--demo`` only),
  ``courses.py`` (``/courses/new`` and a course's ``/settings``: its title and time zone),
  ``docs.py`` (``/docs``: Swagger UI, started by ``static/docs.js``), ``student.py`` (``/courses/{course}`` and
  ``/courses/{course}/assignments/{id}``: a student's views; staff get the dashboard of
  ``staff.py`` and the statements with reference answers, linking to ``.../gradebook`` and
  ``.../stats``), with ``assignment_view.py`` gathering what an assignment page shows;
  ``staff.py`` (the staff's dashboard of a course: assignments, create-assignment form, the
  archived ones with their restore, roster and its CSV import), ``assignment_edit.py`` (an
  assignment's edit page: every field, "move and regrade" to a newer version of its set, archive
  and restore) and ``problem_sets.py`` (the library, set upload, variant preview), with
  their helpers ``course_summary.py``, ``assignment_form.py``, ``roster_csv.py``,
  ``set_issues.py``, ``validation.py`` and ``staff_deps.py``; ``gradebook.py`` (an
  assignment's gradebook for staff: sorted on the server by ``gradebook_table.py``, its CSV and
  Canvas downloads, extensions, one student's attempts) and ``statistics.py`` (its statistics as
  SVG charts, ``charts.py`` drawing what ``stats_view.py`` arranges, and the regrade job with its
  progress); ``lti.py`` (the admins' LMS platforms and dynamic-registration URL, ``/admin/lti``;
  a course's LMS links and grade passback with its resend, ``/courses/{course}/lti``);
  ``handgrading.py`` (the queue of a written part, graded by rubric with the keyboard script
  ``static/grading.js``; release, the rubric editor, replies to regrade requests);
  ``roles.py`` gives ``PageStaff`` and ``PageRunner``, the API's role checks.

Adding a page: a router with ``route_class=PageRoute`` and ``include_in_schema=False``, routes
that take ``PageMember``/``PageAssignment`` and call the services of ``api/*/service.py`` (never a
copy of their rules), a template extending ``base.html``, and the router listed in
:data:`ROUTERS`. Forms post with ``<input type="hidden" name="csrf" value="{{ page.csrf }}">``
and work without JavaScript; htmx requests carry the header set on ``<body>``.

The REST routers never import this package (an import-linter contract).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.pages import (
    account,
    assets,
    assignment_edit,
    code_parts,
    courses,
    demo,
    docs,
    gradebook,
    handgrading,
    home,
    lti,
    practice,
    problem_sets,
    sign_in_links,
    staff,
    statistics,
    student,
)

#: Every router of the pages, included by :func:`install`.
ROUTERS: tuple[APIRouter, ...] = (
    # (``/courses/new`` before the course pages' ``/courses/{course_id}``)
    *(home.router, demo.router, docs.router, courses.router, student.router, practice.router, sign_in_links.router),
    *(account.router, staff.router, problem_sets.router, gradebook.router, handgrading.router, statistics.router),
    *(assignment_edit.router, lti.router, code_parts.router),
)


def install(app: FastAPI) -> None:
    """Mounts the static files and includes the pages (``create_app`` calls it)."""
    app.mount(assets.prefix(), assets.static_app(), name="static")
    for router in ROUTERS:
        app.include_router(router)
