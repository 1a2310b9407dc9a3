"""The exam room: an assignment's access rules (a password, a network allow-list, one session per
attempt), checked on every start, draft save and submission, REST and pages alike."""
