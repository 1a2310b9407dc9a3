"""What every page shares: rendering and the templates every page extends, routing refusals as
pages, who is asking and in which role, dates in the course's zone, charts, notation, the
static files, and form refusals in words."""
