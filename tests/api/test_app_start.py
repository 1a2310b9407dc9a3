"""What a served process (``create_app_from_env``, what uvicorn builds) does before it listens, and
what it leaves to the first request that needs it: every start of the service pays the first, and
the tests start it hundreds of times.

- the libraries only some requests use are not imported: the PostgreSQL driver and procrastinate on
  SQLite, scikit-learn and SciPy (a grouping, a similarity report), Pygments' Python lexer (a
  report's fingerprints); and the answers' grammar is not compiled;
- every route is built: the first ``/health`` builds none (it built the whole app's, 0.7-1 s);
- the first grouping imports scikit-learn and SciPy, then freezes their objects out of the
  collector, as the app's own are.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

#: Modules a service on SQLite that has graded nothing, grouped nothing and compared nothing does
#: not need (``bench/startup.py`` gives their cost).
NOT_AT_START = ("psycopg", "procrastinate", "api.jobs.queue", "sklearn", "scipy", "pygments.lexers.python")

#: Run in a process of its own: this one has imported everything already.
PROBE = textwrap.dedent(
    """
    import gc, sys
    from types import SimpleNamespace

    import fastapi.routing
    from fastapi.testclient import TestClient

    from api.app import create_app_from_env
    from grader.reading import grammar

    NOT_AT_START = {not_at_start!r}
    imported = [name for name in NOT_AT_START if name in sys.modules]
    assert not imported, f"importing the app imported {{imported}}"
    app = create_app_from_env()
    imported = [name for name in NOT_AT_START if name in sys.modules]
    assert not imported, f"building the app imported {{imported}}"
    assert grammar._parser.cache_info().currsize == 0, "the grammar was compiled at start"

    built = []
    original = fastapi.routing._EffectiveRouteContext.from_api_route
    fastapi.routing._EffectiveRouteContext.from_api_route = lambda **kw: built.append(kw) or original(**kw)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    assert not built, f"the first /health built {{len(built)}} routes"

    from api.handgrading.queue import suggested

    answers = {{"1": "fewer multiplications", "2": "fewer multiplication", "3": "more channels"}}
    groups = suggested(SimpleNamespace(course_id="c", id="a"), "q1", answers)
    assert sorted(len(group.members) for group in groups) == [1, 2], groups
    from scipy.cluster import hierarchy
    from sklearn.feature_extraction import text

    # the permanent generation's objects are not among the collector's
    assert not any(found is text.TfidfVectorizer or found is hierarchy.linkage for found in gc.get_objects())
    app.state.engine.dispose()
    print("started light, grouped and frozen")
    """
)


@pytest.mark.only_backend("sqlite")  # the PostgreSQL driver is needed on PostgreSQL
def test_a_served_app_starts_without_what_few_requests_need_and_builds_its_routes(
    backend: str, database_url: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(not_at_start=NOT_AT_START)],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "PYTHONPATH": ":".join(sys.path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("started light, grouped and frozen")
