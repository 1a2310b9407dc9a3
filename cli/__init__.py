"""The ``grader`` command line: the top layer, over the service (``api``), the engine
(``grader``) and the problem bank (``problems``), which import nothing from it."""
