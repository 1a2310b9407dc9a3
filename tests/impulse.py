"""Receptive fields measured by impulse response, for the tests that check ours against torch.

Every input pixel in turn is 1 (a batch of one-hot inputs) through all-ones windows, so the
input pixels an output pixel responds to are its field: the gradient of each output pixel with
respect to the input, for all of them in one forward pass.

Our fields are those of the network extended without end (padding counts as positions, as in
Araujo et al.). Near a border the real network differs: padding reads zeros, and a transposed
convolution's padding crops positions whose fields lie well inside the input. So the impulses
sit in the middle of a wider canvas, ``MARGIN`` pixels from either side, and only output pixels
whose whole field lies among them are held to reach both ends of it.
"""

from __future__ import annotations

import numpy as np
import torch

from problems.solvers.receptive import AxisField

#: Canvas pixels on either side of the impulses: more than the border of any map in the drawn
#: networks reaches into the input (a few layers of padding and kernel spans times the jump).
MARGIN = 256


def impulses(n: int, channels: int = 1, width: int = 1) -> torch.Tensor:
    """A batch of ``n`` canvases of ``n + 2·MARGIN`` rows: element ``j`` is 1 at row ``MARGIN + j``."""
    x = torch.zeros(n, channels, n + 2 * MARGIN, width, dtype=torch.float64)
    x[torch.arange(n), :, MARGIN + torch.arange(n), :] = 1
    return x


def assert_field_matches(reach: np.ndarray, field: AxisField, label: object = "") -> None:
    """``reach[j, i]``: output pixel ``i`` responds to the impulse at canvas row ``MARGIN + j``
    (rows measured on the canvas, which is the network's input). For every output pixel
    the responding input pixels lie in the field we predict for it (none when we predict none)
    and, when that field lies inside the input, reach both of its ends; the widest response of
    a pixel whose field is inside is our field size once every phase of the pattern is seen."""
    n, m = reach.shape
    o = np.arange(m)
    q, r = np.divmod(o, field.period)
    empty = np.array([s is None for s in field.spans])[r]
    lo = np.array([s[0] if s else 0 for s in field.spans])[r] + q * field.shift
    hi = np.array([s[1] if s else -1 for s in field.spans])[r] + q * field.shift
    hit = reach.any(axis=0)
    first = np.where(hit, reach.argmax(axis=0) + MARGIN, -1)
    last = np.where(hit, n - 1 - reach[::-1].argmax(axis=0) + MARGIN, -1)
    assert not (hit & empty).any(), f"{label}: a pixel we give no field responds"
    stray = hit & ~empty & ((first < lo) | (last > hi))
    assert not stray.any(), f"{label}: pixels {o[stray][:5]} respond outside the predicted field"
    inside = ~empty & (lo >= MARGIN) & (hi < MARGIN + n)
    np.testing.assert_array_equal(first[inside], lo[inside], err_msg=str(label))
    np.testing.assert_array_equal(last[inside], hi[inside], err_msg=str(label))
    phases = {i for i, s in enumerate(field.spans) if s is not None}
    if phases and set(r[inside]) == phases:
        assert (last - first + 1)[inside].max() == field.size, label
