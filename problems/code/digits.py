"""The handwritten digits code homework trains on: scikit-learn's (1,797 images of 8×8, shipped
inside the package: nothing is ever downloaded). A model's "it learns" test takes them upscaled to
32×32 and repeated on 3 channels (:func:`sample`), so a network built for 3×32×32 inputs and 10
classes trains on it as it is; a driver's test with ``data: digits`` takes them as they are, split
into training and test images per student (:func:`split`), the test images' labels kept by the
service for judging (``problems.code.spec.DATA_KEPT``), never handed to the sandbox.
"""

from __future__ import annotations

from functools import cache

import numpy as np

#: Each 8×8 pixel becomes a 4×4 block: 32×32.
UPSCALE = 4
CHANNELS = 3
SIDE = 8 * UPSCALE
CLASSES = 10
#: The names of a split, in order: ``data: digits`` binds the first three for a driver and keeps ``y_test``.
SPLIT_NAMES = ("x_train", "y_train", "x_test", "y_test")
#: Of the digits, those held out as a driver's test images (a fifth).
TEST_COUNT = 360
#: How many digits scikit-learn ships: a set's tests are checked against it when the set loads, which
#: must not import scikit-learn (seconds at every service and command start); a test holds it to
#: the data itself.
COUNT = 1797


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as read from scikit-learn's own copy (values 0 to 16), and their labels."""
    from sklearn.datasets import load_digits  # its data file ships with it; imported where needed

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def count() -> int:
    """How many digits there are to draw from (:data:`COUNT`: read without loading them)."""
    return COUNT


def sample(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` distinct digits drawn by ``rng``: images (size, 3, 32, 32) as float32 in [-1, 1]
    (0 is the page's middle grey), and their labels (size,) as int64."""
    images, labels = _digits()
    chosen = rng.choice(len(labels), size=size, replace=False)
    block = np.ones((UPSCALE, UPSCALE), dtype=np.float32)
    upscaled = np.kron(images[chosen], block) / 8.0 - 1.0  # 0..16 → -1..1
    x = np.repeat(upscaled[:, np.newaxis], CHANNELS, axis=1).astype(np.float32)
    return x, labels[chosen].copy()


def split(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every digit, shuffled by ``rng`` and split for a driver's test: ``x_train`` (1,437, 1, 8, 8)
    and ``x_test`` (360, 1, 8, 8) as float32 in [0, 1] (the pixel's 0 to 16, over 16), ``y_train``
    and ``y_test`` their labels as int64."""
    images, labels = _digits()
    order = rng.permutation(len(labels))
    x = (images[order] / 16.0)[:, np.newaxis].astype(np.float32)
    y = labels[order].copy()
    cut = len(labels) - TEST_COUNT
    return {"x_train": x[:cut], "y_train": y[:cut], "x_test": x[cut:], "y_test": y[cut:]}


def split_elements() -> int:
    """The elements :func:`split` hands a test (images and labels), counted without the data."""
    return COUNT * 8 * 8 + COUNT
