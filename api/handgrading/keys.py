"""The answer key of a part in a path: ``problem.part`` (``q5.why``), as a route convertor, so that
``/grading/release`` is no answer key's queue (its routes and the 405's ``Allow`` agree)."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

#: An answer key as set files make them (``problems.setfile``: ids and part keys).
ANSWER_KEY = r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+"


class AnswerKeyConvertor(Convertor[str]):
    regex = ANSWER_KEY

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("answer_key", AnswerKeyConvertor())
