"""An instructor's set check: the solutions and declared mistakes of an uploaded set's code parts
run on their tests in the sandbox by a job, off the students' path and within a wall budget, and
the version usable by an assignment once its check passed."""
