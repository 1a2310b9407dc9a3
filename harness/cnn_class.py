"""A synthetic class of the four-function CNN homework (the ``numpy-convolution`` set:
``conv_forward``, ``conv_backward``, ``max_pool_forward``, ``max_pool_backward``), with copies
planted in it, for the similarity tests and benchmark.

Honest students write the same loops from the same lecture: each function in one of three or four
styles (loops over the output with ``tensordot``, four nested loops, ``einsum``, windows), and within
a style the choices real students make on their own: how the output size is written, how the input
is padded, where the bias is added, whether the window's corner is named first, ``range(n)`` or
``range(0, n)``, the loop order, the names (from pools), a helper for the output size or not,
comments and docstrings from pools, the functions' order, spacing and indentation.

A planted copy takes another student's choices of *code* and changes what a copier changes for free:
every name (consistently), the comments and docstrings, the functions' order, spacing and
indentation. A copy of a copy does the same to a copy. Which students copied from whom is returned
with the class, so a test can hold the report to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

#: Name pools per role (a student draws one of each).
POOLS: dict[str, tuple[str, ...]] = {
    "n": ("n", "N", "num", "batch", "n_imgs", "bs"),
    "c": ("c", "C", "channels", "c_in", "ch"),
    "h": ("h", "H", "height", "h_in", "img_h"),
    "w": ("wd", "W", "width", "w_in", "img_w"),
    "f": ("f", "F", "filters", "n_filt", "c_out"),
    "kh": ("kh", "HH", "k_h", "fh", "kernel_h"),
    "kw": ("kw", "WW", "k_w", "fw", "kernel_w"),
    "ho": ("h_out", "H_out", "out_h", "Hout", "oh", "new_h"),
    "wo": ("w_out", "W_out", "out_w", "Wout", "ow", "new_w"),
    "xp": ("xp", "x_pad", "padded", "x_padded", "xpad"),
    "out": ("out", "y", "result", "output", "res"),
    "win": ("window", "patch", "region", "piece", "win", "sl"),
    "dxp": ("dxp", "dx_pad", "dpadded", "grad_xp"),
    "dx": ("dx", "grad_x", "d_x", "dX"),
    "dw": ("dw", "grad_w", "d_w", "dW"),
    "db": ("db", "grad_b", "d_b", "dB"),
    "i": ("i", "r", "row", "hi", "p", "oy"),
    "j": ("j", "s", "col", "wi", "q", "ox"),
    "k": ("k", "m", "img", "nn", "idx"),
    "l": ("l", "cj", "cc", "kk", "fi"),
    "top": ("top", "r0", "hs", "y0", "start_h"),
    "left": ("left", "c0", "ws", "x0", "start_w"),
    "g": ("g", "grad", "d", "upstream", "dy"),
    "mask": ("mask", "is_max", "sel", "hits"),
    "size_fn": ("out_size", "conv_size", "output_dim", "get_out"),
}
COMMENTS = (
    "# output size",
    "# pad the input",
    "# loop over the output",
    "# slide the window",
    "# gradient of the weights",
    "# bias gradient",
    "# remove the padding",
    "# max over the window",
    "# route the gradient to the max",
    "# shapes",
    "# TODO: vectorise",
    "# compute the convolution",
    "# for each position",
    "# accumulate",
    "# same as the lecture",
    "# forward pass",
    "# backward pass",
)
DOCS = (
    '"""Forward pass."""',
    '"""Compute it."""',
    '"""See the handout."""',
    '"""Naive implementation."""',
    '"""Returns the output."""',
    '"""Backward pass of the layer."""',
)
FUNCTIONS = ("conv_forward", "conv_backward", "max_pool_forward", "max_pool_backward")


@dataclass(frozen=True)
class Student:
    """A student's choices: the code's (``code``: a choice per decision) and the free ones (names,
    comments, docstrings, order, spacing), each drawn from its own random seed."""

    code: int
    names: int
    notes: int
    layout: int


@dataclass(frozen=True)
class Planted:
    """The class's texts by student, and the copies planted: (copy, source) pairs."""

    texts: dict[str, str]
    copies: list[tuple[str, str]]

    def planted_pairs(self) -> set[frozenset[str]]:
        """Every pair of students in one chain of copies (a copy of a copy and its first source too)."""
        groups: dict[str, set[str]] = {}
        for copy, source in self.copies:
            group = groups.get(source, {source}) | groups.get(copy, {copy})
            for member in group:
                groups[member] = group
        return {frozenset((a, b)) for group in map(frozenset, groups.values()) for a in group for b in group if a < b}


def make_class(students: int, *, copies: int, chains: int = 1, seed: int = 1) -> Planted:
    """``students`` texts, of which ``copies`` are planted copies of honest ones and ``chains``
    more are copies of copies."""
    rng = random.Random(seed)
    honest = students - copies - chains
    people = {f"s{n:04d}": Student(*(rng.getrandbits(32) for _ in range(4))) for n in range(honest)}
    planted: list[tuple[str, str]] = []
    names = list(people)
    for n in range(copies + chains):
        source = rng.choice(names) if n < copies else rng.choice([copy for copy, _ in planted[:copies]])
        if n < copies:
            names.remove(source)  # each honest student is copied once at most
        copy = f"s{honest + n:04d}"
        people[copy] = replace(people[source], **{k: rng.getrandbits(32) for k in ("names", "notes", "layout")})
        planted.append((copy, source))
    order = list(people)
    rng.shuffle(order)
    return Planted({name: render(people[name]) for name in sorted(order)}, planted)


def render(student: Student) -> str:
    """A student's module."""
    code, names, notes, layout = (
        random.Random(s) for s in (student.code, student.names, student.notes, student.layout)
    )
    nm = {role: names.choice(pool) for role, pool in POOLS.items()}
    helper = code.random() < 0.3
    bodies = {
        "conv_forward": _conv_forward(code, nm, helper),
        "conv_backward": _conv_backward(code, nm),
        "max_pool_forward": _pool_forward(code, nm),
        "max_pool_backward": _pool_backward(code, nm),
    }
    order = list(FUNCTIONS)
    if layout.random() < 0.5:
        layout.shuffle(order)
    parts = ["import numpy as np"]
    if helper:
        size_fn = nm["size_fn"]
        parts.append(
            f"def {size_fn}(length, kernel, stride, pad=0):\n    return (length + 2 * pad - kernel) // stride + 1"
        )
    for name in order:
        lines = bodies[name]
        text = "\n".join(_noted(line, notes) for line in lines)
        doc = f"    {notes.choice(DOCS)}\n" if notes.random() < 0.4 else ""
        parts.append(f"{_signature(name)}\n{doc}{text}")
    gap = "\n" * layout.choice((2, 3))
    module = gap.join(parts) + "\n"
    if layout.random() < 0.4:
        module = _compact(module)
    if layout.random() < 0.3:
        module = "\n".join(_halve_indent(line) for line in module.split("\n"))
    return module


def _signature(name: str) -> str:
    return {
        "conv_forward": "def conv_forward(x, w, b, stride=1, pad=0):",
        "conv_backward": "def conv_backward(dout, x, w, b, stride=1, pad=0):",
        "max_pool_forward": "def max_pool_forward(x, size, stride):",
        "max_pool_backward": "def max_pool_backward(dout, x, size, stride):",
    }[name]


def _noted(line: str, notes: random.Random) -> str:
    """A line, perhaps with a comment above it."""
    if notes.random() < 0.2:
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}{notes.choice(COMMENTS)}\n{line}"
    return line


def _compact(module: str) -> str:
    for spaced, tight in ((" * ", "*"), (" + ", "+"), (" - ", "-"), (" // ", "//")):
        module = module.replace(spaced, tight)
    return module


def _halve_indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return " " * ((len(line) - len(stripped)) // 2) + stripped


def _size(code: random.Random, nm: dict[str, str], length: str, kernel: str, helper: bool, pad: bool = True) -> str:
    """The output size, as this student writes it."""
    if helper and pad:
        return f"{nm['size_fn']}({length}, {kernel}, stride, pad)"
    padding = " + 2 * pad" if pad else ""
    return code.choice(
        (
            f"({length}{padding} - {kernel}) // stride + 1",
            f"1 + ({length}{padding} - {kernel}) // stride",
            f"int(({length} - {kernel}{padding}) / stride) + 1",
            f"({length} - {kernel}{padding}) // stride + 1",
        )
    )


def _pad(code: random.Random, nm: dict[str, str]) -> list[str]:
    spec = "((0, 0), (0, 0), (pad, pad), (pad, pad))"
    return [
        code.choice(
            (
                f"    {nm['xp']} = np.pad(x, {spec})",
                f"    {nm['xp']} = np.pad(x, {spec}, mode='constant')",
                f"    {nm['xp']} = np.pad(x, {spec}, 'constant')",
                f"    {nm['xp']} = np.pad(x, {spec}, 'constant', constant_values=0)",
            )
        )
    ]


def _range(code: random.Random, bound: str) -> str:
    return f"range({bound})" if code.random() < 0.7 else f"range(0, {bound})"


def _corner(code: random.Random, nm: dict[str, str], indent: str, kh: str, kw: str) -> tuple[list[str], str, str]:
    """The window's rows and columns, perhaps with its corner named first."""
    i, j = nm["i"], nm["j"]
    if code.random() < 0.5:
        top, left = nm["top"], nm["left"]
        return (
            [f"{indent}{top} = {i} * stride", f"{indent}{left} = {j} * stride"],
            f"{top} : {top} + {kh}",
            f"{left} : {left} + {kw}",
        )
    return [], f"{i} * stride : {i} * stride + {kh}", f"{j} * stride : {j} * stride + {kw}"


def _shapes(code: random.Random, nm: dict[str, str]) -> list[str]:
    n, c, h, w, f, kh, kw = (nm[r] for r in ("n", "c", "h", "w", "f", "kh", "kw"))
    lines = [f"    {n}, {c}, {h}, {w} = x.shape", f"    {f}, _, {kh}, {kw} = w.shape"]
    if code.random() < 0.3:
        lines.reverse()
    return lines


def _conv_forward(code: random.Random, nm: dict[str, str], helper: bool) -> list[str]:
    n, f, h, w, kh, kw, ho, wo, xp, out, win, i, j = (
        nm[r] for r in ("n", "f", "h", "w", "kh", "kw", "ho", "wo", "xp", "out", "win", "i", "j")
    )
    lines = _shapes(code, nm)
    lines += [f"    {ho} = {_size(code, nm, h, kh, helper)}", f"    {wo} = {_size(code, nm, w, kw, helper)}"]
    lines += _pad(code, nm)
    style = code.choice(("tensordot", "loops", "einsum", "windows"))
    late_bias = code.random() < 0.4
    bias = code.choice(("b.reshape(1, -1, 1, 1)", "b[None, :, None, None]", "b[np.newaxis, :, np.newaxis, np.newaxis]"))
    if style == "windows":
        lines.append(f"    {win} = np.lib.stride_tricks.sliding_window_view({xp}, ({kh}, {kw}), axis=(2, 3))")
        lines.append(f"    {win} = {win}[:, :, ::stride, ::stride]")
        lines.append(f"    {out} = np.einsum('nchwkl,fckl->nfhw', {win}, w) + {bias}")
        return [*lines, f"    return {out}"]
    lines.append(
        f"    {out} = "
        + code.choice((f"np.zeros(({n}, {f}, {ho}, {wo}))", f"np.zeros(({n}, {f}, {ho}, {wo}), dtype=x.dtype)"))
    )
    if style == "loops":
        k, q = nm["k"], nm["l"]
        outer = [f"    for {k} in {_range(code, n)}:", f"        for {q} in {_range(code, f)}:"]
        if code.random() < 0.4:
            outer = [f"    for {q} in {_range(code, f)}:", f"        for {k} in {_range(code, n)}:"]
        lines += outer
        lines += [f"            for {i} in {_range(code, ho)}:", f"                for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 20, kh, kw)
        lines += corner
        lines.append(f"                    {win} = {xp}[{k}, :, {rows}, {cols}]")
        add = "" if late_bias else f" + b[{q}]"
        lines.append(f"                    {out}[{k}, {q}, {i}, {j}] = np.sum({win} * w[{q}]){add}")
    else:
        lines += [f"    for {i} in {_range(code, ho)}:", f"        for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 12, kh, kw)
        lines += corner
        lines.append(f"            {win} = {xp}[:, :, {rows}, {cols}]")
        product = (
            f"np.tensordot({win}, w, axes=([1, 2, 3], [1, 2, 3]))"
            if style == "tensordot"
            else f"np.einsum('nchw,fchw->nf', {win}, w)"
        )
        add = "" if late_bias else " + b"
        lines.append(f"            {out}[:, :, {i}, {j}] = {product}{add}")
    if late_bias:
        lines.append(f"    {out} += {bias}")
    return [*lines, f"    return {out}"]


def _conv_backward(code: random.Random, nm: dict[str, str]) -> list[str]:
    n, _c, h, w, f, kh, kw, ho, wo, xp, dxp, dx, dw, db, win, i, j, g = (
        nm[r]
        for r in ("n", "c", "h", "w", "f", "kh", "kw", "ho", "wo", "xp", "dxp", "dx", "dw", "db", "win", "i", "j", "g")
    )
    lines = _shapes(code, nm)
    lines.append(f"    _, _, {ho}, {wo} = dout.shape")
    lines += _pad(code, nm)
    lines.append(f"    {dxp} = " + code.choice((f"np.zeros_like({xp})", f"np.zeros({xp}.shape)")))
    lines.append(f"    {dw} = " + code.choice(("np.zeros_like(w)", "np.zeros(w.shape)")))
    db_line = f"    {db} = " + code.choice(("dout.sum(axis=(0, 2, 3))", "np.sum(dout, axis=(0, 2, 3))"))
    early_db = code.random() < 0.5
    if early_db:
        lines.append(db_line)
    style = code.choice(("tensordot", "loops", "einsum"))
    if style == "loops":
        k, q = nm["k"], nm["l"]
        lines += [f"    for {k} in {_range(code, n)}:", f"        for {q} in {_range(code, f)}:"]
        lines += [f"            for {i} in {_range(code, ho)}:", f"                for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 20, kh, kw)
        lines += corner
        lines.append(f"                    {win} = {xp}[{k}, :, {rows}, {cols}]")
        updates = [
            f"                    {dw}[{q}] += {win} * dout[{k}, {q}, {i}, {j}]",
            f"                    {dxp}[{k}, :, {rows}, {cols}] += w[{q}] * dout[{k}, {q}, {i}, {j}]",
        ]
    else:
        lines += [f"    for {i} in {_range(code, ho)}:", f"        for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 12, kh, kw)
        lines += corner
        lines.append(f"            {win} = {xp}[:, :, {rows}, {cols}]")
        lines.append(f"            {g} = dout[:, :, {i}, {j}]")
        if style == "tensordot":
            updates = [
                f"            {dw} += np.tensordot({g}, {win}, axes=([0], [0]))",
                f"            {dxp}[:, :, {rows}, {cols}] += np.tensordot({g}, w, axes=([1], [0]))",
            ]
        else:
            updates = [
                f"            {dw} += np.einsum('nf,nchw->fchw', {g}, {win})",
                f"            {dxp}[:, :, {rows}, {cols}] += np.einsum('nf,fchw->nchw', {g}, w)",
            ]
    if code.random() < 0.4:
        updates.reverse()
    lines += updates
    if not early_db:
        lines.append(db_line)
    lines.append(
        code.choice(
            (
                f"    {dx} = {dxp}[:, :, pad : pad + {h}, pad : pad + {w}]",
                f"    {dx} = {dxp}[:, :, pad : {h} + pad, pad : {w} + pad]",
                f"    {dx} = {dxp}[:, :, pad : {dxp}.shape[2] - pad, pad : {dxp}.shape[3] - pad]",
            )
        )
    )
    return [*lines, f"    return {dx}, {dw}, {db}"]


def _pool_forward(code: random.Random, nm: dict[str, str]) -> list[str]:
    n, c, h, w, ho, wo, out, win, i, j = (nm[r] for r in ("n", "c", "h", "w", "ho", "wo", "out", "win", "i", "j"))
    lines = [f"    {n}, {c}, {h}, {w} = x.shape"]
    lines += [
        f"    {ho} = {_size(code, nm, h, 'size', False, False)}",
        f"    {wo} = {_size(code, nm, w, 'size', False, False)}",
    ]
    style = code.choice(("slices", "loops", "windows"))
    if style == "windows":
        lines.append(f"    {win} = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))")
        lines.append(
            f"    {out} = {win}[:, :, ::stride, ::stride]." + code.choice(("max(axis=(4, 5))", "max(axis=(-2, -1))"))
        )
        return [*lines, f"    return {out}"]
    lines.append(
        f"    {out} = " + code.choice((f"np.zeros(({n}, {c}, {ho}, {wo}))", f"np.empty(({n}, {c}, {ho}, {wo}))"))
    )
    if style == "loops":
        k, q = nm["k"], nm["l"]
        lines += [f"    for {k} in {_range(code, n)}:", f"        for {q} in {_range(code, c)}:"]
        lines += [f"            for {i} in {_range(code, ho)}:", f"                for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 20, "size", "size")
        lines += corner
        lines.append(
            f"                    {out}[{k}, {q}, {i}, {j}] = "
            + code.choice((f"np.max(x[{k}, {q}, {rows}, {cols}])", f"x[{k}, {q}, {rows}, {cols}].max()"))
        )
    else:
        lines += [f"    for {i} in {_range(code, ho)}:", f"        for {j} in {_range(code, wo)}:"]
        corner, rows, cols = _corner(code, nm, " " * 12, "size", "size")
        lines += corner
        lines.append(f"            {win} = x[:, :, {rows}, {cols}]")
        lines.append(
            f"            {out}[:, :, {i}, {j}] = "
            + code.choice((f"{win}.max(axis=(2, 3))", f"np.max({win}, axis=(2, 3))", f"np.amax({win}, axis=(2, 3))"))
        )
    return [*lines, f"    return {out}"]


def _pool_backward(code: random.Random, nm: dict[str, str]) -> list[str]:
    n, c, ho, wo, dx, win, i, j, k, q, mask = (
        nm[r] for r in ("n", "c", "ho", "wo", "dx", "win", "i", "j", "k", "l", "mask")
    )
    lines = [f"    {n}, {c}, _, _ = x.shape", f"    _, _, {ho}, {wo} = dout.shape"]
    if code.random() < 0.5:
        lines = [f"    {n}, {c}, {ho}, {wo} = dout.shape"]
    lines.append(f"    {dx} = " + code.choice(("np.zeros_like(x)", "np.zeros(x.shape)")))
    style = code.choice(("argmax", "mask", "loops"))
    lines += [f"    for {i} in {_range(code, ho)}:", f"        for {j} in {_range(code, wo)}:"]
    corner, rows, cols = _corner(code, nm, " " * 12, "size", "size")
    lines += corner
    if style == "mask":
        lines.append(f"            {win} = x[:, :, {rows}, {cols}]")
        lines.append(f"            {mask} = {win} == {win}.max(axis=(2, 3), keepdims=True)")
        lines.append(f"            {dx}[:, :, {rows}, {cols}] += {mask} * dout[:, :, {i}, {j}][:, :, None, None]")
        return [*lines, f"    return {dx}"]
    lines += [f"            for {k} in {_range(code, n)}:", f"                for {q} in {_range(code, c)}:"]
    lines.append(f"                    {win} = x[{k}, {q}, {rows}, {cols}]")
    if style == "argmax":
        split = code.choice(("np.unravel_index(np.argmax({win}), {win}.shape)", "divmod(int(np.argmax({win})), size)"))
        lines.append(f"                    a, b = {split.format(win=win)}")
        if corner:
            top, left = nm["top"], nm["left"]
            lines.append(f"                    {dx}[{k}, {q}, {top} + a, {left} + b] += dout[{k}, {q}, {i}, {j}]")
        else:
            lines.append(
                f"                    {dx}[{k}, {q}, {i} * stride + a, {j} * stride + b] += dout[{k}, {q}, {i}, {j}]"
            )
    else:
        lines.append(f"                    {mask} = {win} == np.max({win})")
        lines.append(f"                    {dx}[{k}, {q}, {rows}, {cols}] += {mask} * dout[{k}, {q}, {i}, {j}]")
    return [*lines, f"    return {dx}"]
