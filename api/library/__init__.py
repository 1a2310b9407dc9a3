"""The problem sets a course may use: the built-in bank as the service loads it (``bank``) and the
versions courses uploaded, kept in the database (``course_sets``)."""
