"""LTI 1.3 Advantage: the service as a tool that learning platforms (Canvas, Moodle, ...) launch.

One job per module:

* ``claims.py``: the launch's checks, one pure function from the id_token's claims (signature
  already verified) to a decision: :class:`~api.lti.claims.Launch` or
  :class:`~api.lti.claims.Refused` naming the check that failed. Role mapping lives there too.
* ``keys.py``: the tool's own RSA keys (private keys encrypted at rest with ``GRADER_LTI_KEY``),
  their JWKS, rotation, and signing the tool's JWTs (deep-linking responses, later client
  assertions).
* ``keysets.py``: the platforms' key sets, fetched through the one injected HTTP client
  (``app.state.lti_http``), cached; fetched again for an unknown ``kid`` within bounds that no
  stream of launches can push (one fetch at a time, unknown kids remembered); verifying an
  id_token's signature.
* ``logins.py``: the login's ``state``, signed by the tool (nothing is stored per login), bound to
  the browser by a cookie, used once.
* ``service.py``: the rows: platforms (and which one a login is for), accounts by
  (platform, ``sub``), linked courses, accepted launches (each used once).
* :mod:`api.pages.lms.launch`: the tool's endpoints (login, launch, continuing into the service,
  linking a course, deep linking, JWKS, Canvas's configuration), with the other pages they
  render among; ``router.py``: the admins' REST API.
* Dynamic registration: ``registration.py`` (the admins' one-time URLs, used once, success or not),
  ``dynamic.py`` (the protocol: the platform's OpenID configuration checked, the tool's
  registration posted, every answer bounded), :mod:`api.pages.lms.registration` (the URL the platform opens).
  A platform whose answer names no deployment (Canvas) keeps the one its first verified launch
  names (:func:`api.lti.service.launch_deployments`): keyed on what was registered, not on the LMS.

Per-platform differences (Canvas's institution roles, its Student View user) are handled in
``claims.py`` alone.
"""
