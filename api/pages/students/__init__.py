"""A student's pages: their course, an assignment answered and its results (``pages``, with what an
assignment page shows gathered by ``assignment_view``), code parts' uploads and live results, and
practice on fresh variants."""
