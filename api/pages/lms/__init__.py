"""The LMS's pages: the platforms registered by admins and a course's links (``platforms``), the
endpoints platforms and browsers reach on a launch (``launch``), and dynamic registration."""
