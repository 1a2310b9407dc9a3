"""An assignment's terms for one student, and the rules that read them: when it is due, how many
attempts, the late penalty, which attempt counts, when the answers are released and practice
opens, the student's extension applied.

One place, below every package that applies them (assignments, submissions, reports, grading,
LTI, the pages): each calls these rules and none holds its own copy, so the REST API, the pages and
the exports cannot disagree, and the packages above need not import one another to agree.
"""
