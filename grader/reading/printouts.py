"""A value pasted as numpy, torch or Jupyter print it, read as the value printed: ``np.int64(528)``,
``np.float64(4.59375)``, ``tensor(51264)``, ``tensor(2432., grad_fn=<SumBackward0>)``,
``array([13, 26, 52])``, ``Out[3]: 2432``. Only the printout's own wrapping is taken off: what is
inside is read as any answer is, and a printout of anything else (a call, a name) is left for the
reader to refuse. Each form is one bounded regular expression, anchored at both ends.
"""

from __future__ import annotations

import re

#: Jupyter's prompt before a cell's result.
_PROMPT = re.compile(r"\s*Out\s?\[\s?\d{1,6}\s?\]\s?:\s*")
#: Space around a printout's punctuation, bounded so that no text costs more than linear work.
_S = r"\s{0,24}"
#: numpy's scalars as numpy 2 prints them (``repr``), and their constructors.
_NUMPY_SCALAR = re.compile(
    r"(?:np|numpy)\.(?:float|int|uint|longlong|double|single|half)(?:8|16|32|64|128)?_?\((?P<value>[^()]*)\)"
)
#: A torch tensor's printout, with the options it prints after the values.
_TENSOR_OPTION = rf"{_S},{_S}(?:dtype=torch\.\w{{1,20}}|device='[\w:]{{1,20}}'|requires_grad=True|grad_fn=<\w{{1,60}}>)"
_TENSOR = re.compile(rf"(?:torch\.)?tensor\((?P<value>[^()]*?)(?:{_TENSOR_OPTION}){{0,4}}{_S}\)")
#: A numpy array's printout, with its dtype where numpy prints one.
_ARRAY = re.compile(rf"(?:np\.|numpy\.)?array\((?P<value>[^()]*?)(?:{_S},{_S}dtype=(?:np\.|numpy\.)?\w{{1,20}})?{_S}\)")
_PRINTOUTS = (_NUMPY_SCALAR, _TENSOR, _ARRAY)


def printed_value(text: str) -> str:
    """The value a printout shows, or the text as it is when it is not one of these printouts.

    >>> printed_value("np.int64(528)"), printed_value("tensor(51264, grad_fn=<SumBackward0>)")
    ('528', '51264')
    >>> printed_value("Out[3]: array([13, 26, 52])"), printed_value("max(3, 4)")
    ('[13, 26, 52]', 'max(3, 4)')
    """
    if "(" not in text and "Out" not in text:  # (most answers: no printout to look for)
        return text
    prompt = _PROMPT.match(text)
    inner = text[prompt.end() :] if prompt else text
    for printout in _PRINTOUTS:
        found = printout.fullmatch(inner.strip())
        if found:
            return found.group("value").strip()
    return inner.strip() if prompt else text
