"""Command groups of the ``grader`` command line."""
