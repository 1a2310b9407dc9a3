"""The course gradebook: every assignment of a course in one table, each student's counted score
per assignment (as the per-assignment gradebook counts it: :func:`api.terms.counted.counted_attempt`)
and their percent per category and in total (:mod:`api.categories.weights`); as JSON, CSV and
Canvas's gradebook import. For the course's staff."""
