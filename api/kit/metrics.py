"""What an operator's Prometheus (and an autoscaler reading it) sees of a process: the official
client's metrics, exposed in its text format by ``GET /metrics`` (staff) or on a port of their own
(``GRADER_METRICS_PORT``: :func:`serve_port`).

Two kinds of figure:

- what this process did, counted where it happens: submissions acknowledged, code runs graded and
  how long their students waited, sandboxes busy now, requests refused by reason. A service of
  several processes (``grader serve --workers N``) counts them in the client's multiprocess mode
  (``PROMETHEUS_MULTIPROC_DIR``, which ``grader serve`` sets for its processes unless the operator
  did), so whichever process answers a scrape gives the sum of all;
- what the queues hold, read from the database at each scrape (:func:`watch_queues`): the same
  from any process on any host, which is what an autoscaler needs (how many code runs wait, and
  for how long the oldest has).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

#: The environment variable of the client's multiprocess mode (a directory the processes share).
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

SUBMISSIONS = Counter("grader_submissions", "Submissions stored and acknowledged (a 201).")
GRADED = Counter("grader_graded", "Code runs whose results were written, by how they ended.", ["outcome"])
#: From the submission's acknowledgement to its code's results: what a student waits for.
GRADING_SECONDS = Histogram(
    "grader_grading_seconds",
    "Seconds from a submission's acknowledgement to its code parts' results.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, float("inf")),
)
SANDBOXES_BUSY = Gauge("grader_sandboxes_busy", "Sandboxes running a submission now.", multiprocess_mode="livesum")
REFUSALS = Counter("grader_refusals", "Requests refused, by reason.", ["reason"])

#: A queue's figures: how many jobs wait or run, and how old the oldest waiting one is (seconds; 0: none waits).
QueueFigures = Mapping[str, tuple[int, float]]


def graded(outcome: str, seconds: float | None) -> None:
    """A code run ended with ``outcome`` (``written``, ``superseded``); ``seconds``: how long its
    student waited for the results it wrote (None: it wrote none)."""
    GRADED.labels(outcome=outcome).inc()
    if seconds is not None:
        GRADING_SECONDS.observe(seconds)


def refused(kind: type) -> None:
    """A request refused with a :class:`api.kit.errors.DomainError` of ``kind``: counted under its
    name (``too_many_requests``, ``conflict``, ...)."""
    REFUSALS.labels(reason=_snake(kind.__name__)).inc()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class _Queues(Collector):
    """The queues' gauges, read when scraped (a failed read leaves them out rather than fail the scrape)."""

    def __init__(self, read: Callable[[], QueueFigures]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            figures = self.read()
        except Exception:  # (the database away: the other figures still answer)
            return
        jobs = GaugeMetricFamily("grader_queue_jobs", "Jobs waiting or running, per queue.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "grader_queue_oldest_seconds", "Age of the oldest job waiting, per queue (0: none).", labels=["queue"]
        )
        for queue, (count, age) in sorted(figures.items()):
            jobs.add_metric([queue], count)
            oldest.add_metric([queue], age)
        yield jobs
        yield oldest


_queues: _Queues | None = None


def watch_queues(read: Callable[[], QueueFigures]) -> None:
    """Scrapes report the queues as ``read`` finds them (composing the service again replaces it)."""
    global _queues
    if _queues is None:
        _queues = _Queues(read)
    else:
        _queues.read = read


def exposition() -> bytes:
    """Every figure in Prometheus's text format: this process's (or, in multiprocess mode, every
    process's summed), then the queues'."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if _queues is not None:
        queues = CollectorRegistry()
        queues.register(_queues)
        text += generate_latest(queues)
    return text


def serve_port(port: int, *, host: str = "0.0.0.0") -> None:
    """The figures on a port of their own, in a thread of this process (Prometheus scrapes it)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # (no line per scrape)
            return

    server = ThreadingHTTPServer((host, port), Handler)
    Thread(target=server.serve_forever, name="grader-metrics", daemon=True).start()
