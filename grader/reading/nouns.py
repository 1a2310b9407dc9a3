"""Words that may follow a number to say what it counts (``36 channels``, ``2432 trainable
parameters``, ``13 cells``): a name for the count, which changes nothing in the value. The units
(``units._BASES``) and scales (``units.SCALES``) have tables of their own; a word after a number
that is in none of them is refused by name, never dropped (``6.11 crore`` was once read as 6.11).
"""

from __future__ import annotations

#: What a count counts, singular (a plural adds ``s`` or ``es``), and the words that describe it
#: before the noun (``trainable``, ``output``, ``total``).
_NOUNS = {"channel", "filter", "kernel", "neuron", "unit", "layer", "weight", "bias", "value", "element"}
_NOUNS |= {"activation", "output", "input", "feature", "map", "cell", "box", "anchor", "token", "patch"}
_NOUNS |= {"position", "pixel", "multiplication", "mult", "mul", "addition", "add", "operation", "op"}
_NOUNS |= {"connection", "entry", "entries", "number", "float", "sample", "image", "window", "class"}
_NOUNS |= {"step", "row", "column", "location", "node", "prediction", "head", "block", "group", "grid"}
_NOUNS |= {"dimension", "dim", "side", "frame", "cycle", "multiply", "multiply-add", "multiply-accumulate"}
_DESCRIBING = {"trainable", "learnable", "learned", "total", "overall", "spatial", "free", "distinct"}
_DESCRIBING |= {"independent", "scalar", "floating-point", "fp32", "float32", "int8", "bias-free"}
_DESCRIBING |= {"conv", "convolution", "convolutional", "fc", "dense", "linear", "hidden", "visible"}
_DESCRIBING |= {"convoluted", "convolved", "reduction", "decrease", "saving", "savings", "compression"}


def is_noun(word: str) -> bool:
    """Whether ``word`` names what a count counts, or qualifies that name.

    >>> is_noun("channels"), is_noun("Patches"), is_noun("trainable"), is_noun("crore")
    (True, True, True, False)
    """
    lowered = word.lower()
    if lowered in _NOUNS or lowered in _DESCRIBING:
        return True
    return lowered.removesuffix("s") in _NOUNS or (lowered.endswith("es") and lowered[:-2] in _NOUNS)
