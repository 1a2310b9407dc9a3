"""A worker process's app (``create_app_from_env``, what uvicorn builds) is returned before the
grouping's numerical libraries are imported, and imports them beside the service: they took about
3 s of the 7 a worker took to answer its first ``/health``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

#: Run in a process of its own: this one may have imported scikit-learn already.
PROBE = textwrap.dedent(
    """
    import gc, sys, threading

    from api.app import create_app_from_env

    started, release = threading.Event(), threading.Event()

    class Held:  # holds scikit-learn's import until released (for 120 s at most)

        def find_spec(self, name, path=None, target=None):
            if name == "sklearn":
                started.set()
                release.wait(timeout=120)
            return None

    sys.meta_path.insert(0, Held())
    app = create_app_from_env()
    assert started.wait(timeout=300), "scikit-learn was never imported"
    assert "sklearn" not in sys.modules, "the app was returned only after scikit-learn was imported"
    release.set()
    for importer in [thread for thread in threading.enumerate() if thread.name == "grouping-import"]:
        importer.join(timeout=300)
        assert not importer.is_alive(), "the import is still running after 300 s"
    from scipy.cluster import hierarchy
    from sklearn.feature_extraction import text
    # the permanent generation's objects are not among the collector's
    assert not any(found is text.TfidfVectorizer or found is hierarchy.linkage for found in gc.get_objects())
    app.state.engine.dispose()
    print("imported and frozen")
    """
)


@pytest.mark.only_backend("sqlite")  # the app's start is the same on both
def test_the_grouping_libraries_are_imported_beside_the_service_and_frozen(backend: str, database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "PYTHONPATH": ":".join(sys.path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("imported and frozen")
