"""The web service: accounts, assignments, submissions graded on arrival, gradebooks.

Built on the pure grading engine (:mod:`grader.engine`) and the problem bank (:mod:`problems`);
everything with I/O (HTTP, the database) lives here.
"""
