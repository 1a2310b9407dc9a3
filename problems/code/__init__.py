"""Code parts: a student's module run in the sandbox on tests whose inputs are drawn per student
and whose references our solvers compute. ``parts`` holds the set file's models, ``kinds`` the
registry of what a part may ask for (see ``problems.code.kinds``)."""
