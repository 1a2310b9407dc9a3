"""Similar code in a class: a report of pairs and clusters for a person to judge (issue 67).

The modules, each with its why: :mod:`.tokens` (Pygments' lexer; what is masked for matching),
:mod:`.winnow` (k-grams and Winnowing; the parameters), :mod:`.index` (fingerprint → submissions;
the rarity weights; pairs' scores), :mod:`.evidence` (what a pair shares; the same rare mistake),
:mod:`.report` (the class's report, and one late submission against it). Pure: nothing here reads
a file, runs or imports a student's code.
"""

from grader.code_similarity.report import Report, Similarity, Submission, similarity_report

__all__ = ["Report", "Similarity", "Submission", "similarity_report"]
