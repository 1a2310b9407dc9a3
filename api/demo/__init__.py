"""The demo course that ``grader serve --demo`` writes: its course and accounts (``course``), the
students' work on it (``work``) and their code graded in the sandbox (``code``); and its end, the
demo's tokens revoked at a start without ``--demo``."""
