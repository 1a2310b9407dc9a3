"""The proctor's view of an exam as it runs: every student's attempt (state, clock, last save,
address, sessions, events), and the proctor's acts on it (unlock, time added, an attempt ended)."""
