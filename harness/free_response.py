"""Free-response answers to one question ("Why does a 1×1 convolution before the 3×3 and 5×5
convolutions of an Inception module save computation?"), written as students write them: four
ideas, each in several wordings, for the grouping tests and benchmark."""

from __future__ import annotations

import random

#: idea → its answers. ``channels`` is the right idea; the others are common wrong ones.
IDEAS: dict[str, list[str]] = {
    "channels": [
        "It reduces the number of channels before the 3x3 and 5x5 convolutions, so they need far fewer "
        "multiplications.",
        "The 1x1 conv shrinks the channel depth first, so the expensive 3x3 and 5x5 convs do fewer multiplications.",
        "Because the 1×1 convolution reduces the channels before the bigger convolutions, cutting the multiplications.",
        "reduces number of channels so the 3x3 and 5x5 convolutions after it need much less computation",
        "Fewer channels go into the 3x3 and 5x5 convolutions after the 1x1 reduces them, so fewer multiplications.",
    ],
    "spatial": [
        "It makes the image smaller (reduces height and width), so later layers are cheaper.",
        "The 1x1 convolution downsamples the spatial size (height and width) of the feature map.",
        "it shrinks the width and height of the feature maps so later layers are cheaper",
        "Reduces the spatial resolution, the height and width, so there are fewer pixels for later layers.",
    ],
    "free": [
        "A 1x1 convolution has no parameters so it is free.",
        "1x1 convolutions don't have any parameters, so they cost nothing.",
        "There are no parameters in a 1×1 conv, it costs nothing to compute.",
    ],
    "nonlinearity": [
        "It adds a ReLU nonlinearity between layers, which makes the network more expressive.",
        "The extra ReLU after the 1x1 convolution adds nonlinearity and makes the network more expressive.",
        "adds non-linearity (a ReLU) so the network is more expressive",
    ],
}

#: One answer typed three ways (case, spacing, punctuation): the same once normalised.
SAME = [
    "It reduces the number of channels.",
    "it reduces the number of channels",
    "  It Reduces the number of  channels!",
]


def long_answers(count: int, length: int = 3000, seed: int = 11) -> dict[str, str]:
    """``count`` long answers, no two alike, of ``length`` characters each: the grouping's heaviest
    load (every answer distinct, long and with a large vocabulary between them). Sentences of words
    drawn from a vocabulary of the corpus's words and a few thousand made-up ones, a quarter of them
    taken from a pool of sentences many answers share (as copied text is)."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
    corpus = " ".join(text for texts in IDEAS.values() for text in texts).split()
    vocabulary = corpus + ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(4000)]

    def sentence() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 20))).capitalize() + "."

    shared = [sentence() for _ in range(40)]
    answers: dict[str, str] = {}
    for n in range(count):
        text = ""
        while len(text) <= length:
            text += " " + (rng.choice(shared) if rng.random() < 0.25 else sentence())
        answers[f"long{n:05d}"] = text[1 : length + 1]
    return answers


def random_answers(count: int, length: int = 10_000, seed: int = 12) -> dict[str, str]:
    """``count`` answers of ``length`` letters and spaces at random: as many distinct character
    n-grams as an answer of that length can have, the most each answer can cost the grouping."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz" + " " * 6
    return {f"random{n:05d}": "".join(rng.choices(alphabet, k=length)) for n in range(count)}
