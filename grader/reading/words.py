"""Numbers written in words, up to the millions: ``ninety``, ``thirty-six``, ``two hundred and
fifty-six``, ``one million two hundred thousand``. A small grammar of our own, strict: a run of
number words is read only when it is one well-formed number (``thirty six`` is 36, ``thirty
thirty`` and ``six thirty`` are refused), and a scale word read alone (``61.1 million``) is left
to the number's own grammar."""

from __future__ import annotations

import re

from grader.reading.values import ReadError

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_ONES += ["thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SMALL = {word: value for value, word in enumerate(_ONES)} | {word: 20 + 10 * i for i, word in enumerate(_TENS)}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_WORD = "|".join(sorted([*SMALL, *_SCALES], key=len, reverse=True))
#: "a" for one before a scale word: ``a hundred and twelve`` is 112 (not "a hundred and" and 12).
_ONE = r"a(?=\s+(?:hundred|thousand|million)(?![A-Za-z\-]))"
#: Between number words: spaces, a hyphen, ``and``, or a comma after a scale word, as English writes
#: ``fifty-one thousand, two hundred and sixty-four``.
_JOIN = r"(?:[\s\-]+|\s+and\s+|(?:(?<=thousand)|(?<=million)),\s*(?:and\s+)?)"
#: A run of number words, starting with one that is a number by itself (``million`` alone is a scale).
_RUN = re.compile(rf"(?<![A-Za-z\-])(?:{_ONE}|{'|'.join(SMALL)})(?:{_JOIN}(?:{_WORD}))*(?![A-Za-z\-])", re.I)


def number_words(text: str) -> str:
    """Every run of number words replaced by its digits.

    >>> number_words("thirty-six"), number_words("two hundred and fifty-six kB"), number_words("about ninety")
    ('36', '256 kB', 'about 90')
    >>> number_words("a hundred and twelve"), number_words("a thousand parameters")
    ('112', '1000 parameters')
    >>> number_words("fifty-one thousand, two hundred and sixty-four")
    '51264'
    """
    return _RUN.sub(lambda match: str(words_value(match.group())), text)


def words_value(text: str) -> int:
    """The value of one run of number words, or a refusal when it is not one number."""
    words = [word for word in re.split(r"[\s\-,]+", text.lower()) if word and word != "and"]
    if words[:1] == ["a"]:  # "a hundred": one hundred
        words[0] = "one"
    total, group, largest = 0, 0, 10**9
    for index, word in enumerate(words):
        if word in SMALL:
            value = SMALL[word]
            if value == 0 and len(words) > 1:
                raise _refused(text)
            last = group % 100
            if (value >= 10 and last) or (value < 10 and (last % 10 or 10 <= last < 20)):
                raise _refused(text)  # a tens word after ones, ones after ones or a teen
            group += value
        elif word == "hundred":
            if not 0 < group < 10 or index == 0:
                raise _refused(text)
            group *= 100
        else:
            scale = _SCALES[word]
            if group == 0 or scale >= largest:
                raise _refused(text)
            total, group, largest = total + group * scale, 0, scale
    return total + group


def _refused(text: str) -> ReadError:
    return ReadError(f"“{text.strip()}” is not one number in words: write the number in digits.")
