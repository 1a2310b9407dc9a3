"""Signing in and one's own account: the sign-in form and page sessions, one-time sign-in links and
their downloads, API tokens, the demo's one-click sign-in, and the API's documentation."""
