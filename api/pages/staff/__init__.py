"""The staff's pages: a course's dashboard and settings, assignments created and edited, the library
of problem sets, gradebooks, statistics, and written answers graded by rubric."""
