"""The queues' names, apart from :mod:`api.jobs.queue`: what reads the queues' figures on both
databases (:mod:`api.operations.queues`) names them without importing procrastinate and the
PostgreSQL driver, which a service on SQLite never uses (about 0.3 s of its start)."""

#: The queue of background jobs (regrades, LMS syncs, similarity reports).
QUEUE = "grader"
#: The queue of submissions' code parts: ``grader worker --queue code`` runs only these, so code
#: graders scale out on machines of their own.
CODE_QUEUE = "code"
#: The queue of instructors' set checks (a lane of its own in each worker that takes it).
CHECK_QUEUE = "checks"
#: The queues a worker runs unless told (``grader worker --queue``): every one.
QUEUES = (QUEUE, CODE_QUEUE, CHECK_QUEUE)
