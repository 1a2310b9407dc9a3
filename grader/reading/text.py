"""Text as students type it (LaTeX, unicode, Python) brought to one plain notation:
``*`` multiplies, ``/`` divides, ``^`` raises, ``(`` ``)`` group, ``=`` separates a working
from its result. Every step is a linear scan or a bounded regular expression.
"""

from __future__ import annotations

import re

from grader.reading.values import MAX_TEXT, ReadError

_CHARACTERS = str.maketrans(
    {
        "×": "*",
        "✕": "*",
        "⨯": "*",
        "∗": "*",
        "·": "*",
        "⋅": "*",
        "•": "*",
        "∙": "*",
        "÷": "/",
        "⁄": "/",
        "−": "-",
        "–": "-",
        "—": "-",
        "‒": "-",
        "﹣": "-",
        "＋": "+",
        "⇒": "=",
        "⟹": "=",
        "≈": "=",
        "∼": "~",
        "≅": "=",
        "→": "=",
        "⟶": "=",
        "\u2009": " ",
        "\u202f": " ",
        "\u00a0": " ",
        "\u2007": " ",
        "\u200b": "",
        "\t": " ",
        "\r": "",
        "$": " ",
        "`": " ",
    }
)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")

#: LaTeX commands with a plain meaning, longest first so ``\rightarrow`` is not read as ``\right``.
_COMMANDS = {
    "\\displaystyle": " ",
    "\\rightarrow": "=",
    "\\Rightarrow": "=",
    "\\longrightarrow": "=",
    "\\implies": "=",
    "\\approx": "=",
    "\\simeq": "=",
    "\\equiv": "=",
    "\\to": "=",
    "\\left": "",
    "\\right": "",
    "\\bigl": "",
    "\\bigr": "",
    "\\Bigl": "",
    "\\Bigr": "",
    "\\big": "",
    "\\Big": "",
    "\\cdot": "*",
    "\\times": "*",
    "\\ast": "*",
    "\\div": "/",
    "\\sim": "~",
    "\\sqrt": "sqrt",
    "\\max": "max",
    "\\min": "min",
    "\\log": "log",
    "\\lg": "lg",
    "\\ln": "ln",
    "\\lfloor": "⌊",
    "\\rfloor": "⌋",
    "\\lceil": "⌈",
    "\\rceil": "⌉",
    "\\%": "%",
    "\\,": " ",
    "\\;": " ",
    "\\:": " ",
    "\\!": "",
    "\\ ": " ",
    "\\quad": " ",
    "\\qquad": " ",
    "\\cdotp": "*",
    "\\{": "(",
    "\\}": ")",
    "\\(": " ",
    "\\)": " ",
    "\\[": " ",
    "\\]": " ",
}
_COMMAND = re.compile("|".join(re.escape(c) for c in sorted(_COMMANDS, key=len, reverse=True)))
#: Commands that only style or frame what is in their braces (``\boxed{131136}``, the answer framed).
_TEXT_COMMAND = re.compile(r"\\(?:text|mathrm|mathbf|mathit|textbf|textit|operatorname|mbox|boxed|fbox)\s*\{([^{}]*)\}")
_FRACTION = re.compile(r"\\[dt]?frac\s*")
_SUBSCRIPT = re.compile(r"_\{([A-Za-z0-9]+)\}")
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


def check_size(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) > limit:
        raise ReadError(f"The answer is {len(text):,} characters long; at most {limit:,} are read.")
    return text


def plain(text: str) -> str:
    """One notation for arithmetic and formulas (see the module docstring).

    >>> plain(r"$(5 \\cdot 5 \\cdot 3 + 1) \\cdot 32 = 2432$")
    '(5 * 5 * 3 + 1) * 32 = 2432'
    >>> plain(r"\\frac{k-1}{2}"), plain("H·W·N·K²·M")
    ('((k-1)/(2))', 'H*W*N*K^(2)*M')
    """
    text = _TEXT_COMMAND.sub(r" \1 ", text)
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPTS) + ")", text)
    # Python's power is two asterisks as typed: two times signs (``36 ×× 2``) are a slip, not a power,
    # and are left as two for the grammar to refuse
    text = text.replace("**", "^")
    text = text.translate(_CHARACTERS)
    text = _COMMAND.sub(lambda m: _COMMANDS[m.group()], text)
    text = _fractions(text)
    text = _SUBSCRIPT.sub(r"_\1", text)
    unknown = _UNKNOWN_COMMAND.search(text)
    if unknown:
        raise ReadError(f"The LaTeX command {unknown.group()} is not part of an answer here.")
    text = text.replace("{", "(").replace("}", ")")
    return " ".join(text.split())


def _fractions(text: str) -> str:
    r"""``\frac{a}{b}`` → ``((a)/(b))``, nested ones included; ``\frac12`` → ``((1)/(2))``."""
    while True:
        match = _FRACTION.search(text)
        if not match:
            return text
        position = match.end()
        numerator, position = _argument(text, position)
        denominator, position = _argument(text, position)
        text = f"{text[: match.start()]}(({numerator})/({denominator})){text[position:]}"


def _argument(text: str, position: int) -> tuple[str, int]:
    """One LaTeX argument: a braced group or a single character."""
    while position < len(text) and text[position] == " ":
        position += 1
    if position >= len(text):
        raise ReadError(r"A \frac is missing its numerator or denominator.")
    if text[position] != "{":
        return text[position], position + 1
    depth = 0
    for end in range(position, len(text)):
        if text[end] == "{":
            depth += 1
        elif text[end] == "}":
            depth -= 1
            if depth == 0:
                return text[position + 1 : end], end + 1
    raise ReadError("A brace { is never closed.")


#: A label in front of an answer: "Total:", "Layer 1 (conv):", "Output Matrix:".
LABEL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:\s*")


#: A working that ends by giving a variable's value, not the answer: ``36 where x = 3``,
#: ``H*W*N, with N = 3``. Strong connectives anywhere; weak ones (and a comma) after a value.
_STRONG_ASSIGNMENT = re.compile(r"\b(?:where|if|when|given|assuming|let|since|because)\s+[A-Za-z_]\w*\s*$", re.I)
_WEAK_ASSIGNMENT = re.compile(r"(?:[,;]|\s(?:with|for|using|and))\s*(?:with\s+)?[A-Za-z_]\w*\s*$", re.I)
_VALUE_SIGN = re.compile(r"[\d*/^)+\-]")


def check_working(before: list[str]) -> None:
    """Refuse a working whose last ``=`` sets a variable after prose (``36 where x = 3``): what
    follows that ``=`` is the variable's value, not the answer, and the answer before it is not
    picked out of the sentence either."""
    if not before:
        return
    weak = _WEAK_ASSIGNMENT.search(before[-1])
    if _STRONG_ASSIGNMENT.search(before[-1]) or (weak and _VALUE_SIGN.search(before[-1], 0, weak.start())):
        name = before[-1].split()[-1] if before[-1].split() else "a variable"
        raise ReadError(f"The answer ends by giving {name.strip(',;')} a value, not the answer: give the answer last.")


def result_part(text: str) -> str:
    """The stated result of a working: the text after the last ``=`` (``⇒``, ``→`` and ``≈`` read
    as ``=``), without a label such as ``Total:``.

    >>> result_part("36 * 444 = 15984"), result_part("Total: 35284")
    ('15984', '35284')
    """
    if "=" in text:
        pieces = [piece for piece in text.split("=") if piece.strip()]
        check_working(pieces[:-1])
        text = pieces[-1] if pieces else ""
    return LABEL.sub("", text, count=1).strip().rstrip(".,;:").strip() if ":" in text else text.strip().rstrip(",;")
