"""The service's plumbing, below every domain package: settings, the database and its slots,
errors and headers, body limits, per-account budgets, background threads, mail, migrations, and
the event of a changed score. Nothing here imports a domain package or a page (an import-linter
contract)."""
