"""Background jobs (regrades): a ``jobs`` row the API shows, the job code that does the work in
chunks (:mod:`api.jobs.run`), and two runners of that one code: ``grader worker`` processes fed by
procrastinate's queue on PostgreSQL (:mod:`api.jobs.queue`), and a thread of the service itself on
the embedded SQLite default (:mod:`api.jobs.local`)."""
