"""A course's accommodations: named labels (``time ×1.5``, ``+2 days``) defined once, given to
students, and applied to every assignment of the course by :func:`api.terms.rows.with_extension`."""
