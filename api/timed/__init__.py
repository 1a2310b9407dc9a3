"""Timed assignments: a student's clock (started once, race-safe), their draft saved as they type,
and the time-up sweep that submits the draft at the end, exactly once (:mod:`api.timed.sweep`).
The rule that refuses work past the end is :mod:`api.terms.clock`'s, checked by every door."""
