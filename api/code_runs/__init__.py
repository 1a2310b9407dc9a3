"""Code parts graded in the background: a submission's code answers run in the sandbox after the
201, by a runner of their own (procrastinate's ``code`` queue and ``grader worker --queue code`` on
PostgreSQL, a thread of the service on SQLite), and their results written once
(:mod:`api.code_runs.run`)."""
