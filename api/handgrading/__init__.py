"""Grading by hand: the rubric grading of written parts by staff (the queue, gradings, rubrics,
release). Computed answers are compared by the engine (:mod:`grader.comparison`)."""
