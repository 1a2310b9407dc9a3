"""Every answer in the seed coursework (``/work/shared/seeds``) that the catalogue covers, graded
as the student typed it: LaTeX, numpy and torch printouts, equation chains and all.

Each verdict was worked out without the grader, from the catalogue's statement, by hand and with
torch (``F.conv2d``, ``F.conv_transpose2d``, ``F.max_pool2d`` and the size rule
⌊(n + 2p − k)/s⌋ + 1); the comment above a case says why it is right or which mistake it shows.
Where a final answer is spread over working lines, the case takes what a human grader would take
as the final answer for that key, and its comment says so.

A right answer must be graded ``correct`` with no mistake named; a wrong one ``incorrect``, with
the mistake it shows when that is a known one (and none when the slip matches no known mistake).
"""

from __future__ import annotations

import pytest

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_bank

BANK = load_bank()


def right(set_id: str, key: str, label: str, answer: str) -> object:
    return pytest.param(set_id, key, answer, Status.CORRECT, None, id=f"{set_id}-{key}-{label}")


def wrong(set_id: str, key: str, label: str, answer: str, code: str | None) -> object:
    return pytest.param(set_id, key, answer, Status.INCORRECT, code, id=f"{set_id}-{key}-{label}")


def unread(set_id: str, key: str, label: str, answer: str) -> object:
    return pytest.param(set_id, key, answer, Status.INVALID, None, id=f"{set_id}-{key}-{label}")


def numpy_rows(*rows: str) -> str:
    """A printed matrix as it came out of the PDF: one row per paragraph."""
    return "\n\n".join(rows)


FC = "fc-vs-conv"
RGB = "rgb-convolution"
BASICS = "conv-pool-basics"
MOBILE = "mobilenet-yolo"
CIFAR = "cifar-convnet"

CASES = [
    # --- seed 000 → fc-vs-conv: "Problem Set 3". Every number it reaches is right except the two
    # layer counts, where it gives the 256→256 layers only. Input 3·224·224 = 150528, hidden 75264.
    # right: 150528·75264 weights + 75264 biases
    right(FC, "p2a.hidden_params", "total-label", "Total: 11329414656"),
    # right: 75264·100 + 100; typed "Biases: 100Total: 7526500" (a line break lost), the total taken
    right(FC, "p2a.output_params", "total-label", "Total: 7526500"),
    # right: the sum of the two layers, as an equation chain ending in its value
    right(FC, "p2a.total", "chain", "11329414656 + 7526500 = 11336941156"),
    # right: 7·7·3·3 weights + 3 biases
    right(FC, "p2b.conv_params", "with-unit", "Total: 444 parameters"),
    # right: (224 − 8)/6 = 36 layers; the line reads "Need 36 layers to reach 8×8", the count taken
    right(FC, "p2b.num_layers", "with-unit", "36 layers"),
    # right: 3·8·8 = 192 inputs, 192·100 + 100; typed "Biases: 100Total: 19300", the total taken
    right(FC, "p2b.fc_params", "total-label", "Total: 19300"),
    # right: 36 layers of 444 plus 19,300
    right(FC, "p2b.total", "total-label", "Total: 35284"),
    # right: F.conv2d gives [[1, 0], [-1, 4]]; the "Final Output Matrix" was a picture, so the
    # matrix is assembled from the four "Position" results (= 1, = 0, = −1, = 4)
    right(FC, "p3.conv", "assembled", "[[1, 0], [-1, 4]]"),
    # right: the last numpy printout of the scatter-add, spacing lost, equals F.conv_transpose2d
    right(
        FC,
        "p3.transposed",
        "numpy-lost-spacing",
        numpy_rows(
            "[[ 2. -2. 1. 0. 0. -1.]",
            "[0. 3. -1. 2. -3. 2.]",
            "[0. 0. 1. 0. 2. 0.]",
            "[1.-1.-1. 4. 0. 1.]",
            "[-2. 3. 0. 0. -1. 1.]",
            "[1. 0. 0. 0. 1.-1.]]",
        ),
    ),
    # wrong: "Total 99 layers at 256 channels" — (224 − 16)/2 = 104 layers in the stage; 99 counts
    # only the 256→256 ones, the five channel-changing layers left out (no known mistake)
    wrong(FC, "p4.down_layers", "only-256-layers", "99", None),
    # right: 448 + 4640 + 18496 + 73856 + 295168 + 99·590080
    right(
        FC,
        "p4.down_params",
        "latex-chain",
        r"$448 + 4640 + 18496 + 73856 + 295168 + (590080 \times 99) = 58810528$",
    ),
    # wrong: "Need 21 layers of 256→256" — (224 − 16)/8 = 26 layers in the stage; 21 leaves out
    # the five channel-changing layers (no known mistake)
    wrong(FC, "p4.up_layers", "only-256-layers", "21", None),
    # right: 21·(81·256·256 + 256) + the five channel-changing layers (bias counted by C_out)
    right(
        FC,
        "p4.up_params",
        "latex-chain",
        r"$(5308672 \times 21) + 2654336 + 663616 + 165920 + 41488 + 3891 = 115011363$",
    ),
    # right: 58,810,528 + 115,011,363
    right(FC, "p4.total", "chain", "58810528 + 115011363 = 173821891"),
    # --- seed 001 → rgb-convolution: all right except question 8's rounding. Channel sums:
    # R gives 9 per window, G 18, B 3·(sum of its three rows).
    # right: 9 + 18 + 18 and 9 + 18 + 27, the whole line as typed and its final matrix
    right(
        RGB,
        "q1.output",
        "whole-line",
        r"$$\Rightarrow \begin{bmatrix} 9+18+18 & 9+18+18 \\ 9+18+27 & 9+18+27 \end{bmatrix}"
        r" = \begin{bmatrix} 45 & 45 \\ 54 & 54 \end{bmatrix}$$",
    ),
    right(RGB, "q1.output", "final-bmatrix", r"\begin{bmatrix} 45 & 45 \\ 54 & 54 \end{bmatrix}"),
    # right: equals F.conv2d with padding 1
    right(
        RGB,
        "q2.output",
        "bmatrix",
        r"$$\begin{bmatrix} 18 & 27 & 27 & 18 \\ 30 & 45 & 45 & 30 \\ 36 & 54 & 54 & 36 \\"
        r" 26 & 39 & 39 & 26 \end{bmatrix}$$",
    ),
    # right: dilation 2 samples padded rows/columns 0, 2, 4: R 4, G 8, B 2·(2 + 4) = 12 on top and
    # 2·(1 + 3) = 8 below (F.conv2d with dilation=2, padding=1)
    right(
        RGB,
        "q3.output",
        "whole-line",
        r"$$\begin{bmatrix} 4+8+12 & 4+8+12 \\ 4+8+8 & 4+8+8 \end{bmatrix}"
        r" = \begin{bmatrix} 24 & 24 \\ 20 & 20 \end{bmatrix}$$",
    ),
    right(RGB, "q3.output", "final-bmatrix", r"\begin{bmatrix} 24 & 24 \\ 20 & 20 \end{bmatrix}"),
    # right: 128 − 3 + 1 = 126, 16 filters
    right(RGB, "q7.shape", "latex", r"$$\text{Output tensor} = 126 \times 126 \times 16$$"),
    # wrong: (128 − 3)/2 + 1 = 63.5 rounded up to 64; the floor gives 63 → output-size-rounding
    wrong(RGB, "q8.shape", "latex", r"$$\text{Output tensor} = 64 \times 64 \times 16$$", "output-size-rounding"),
    # right: 16 filters of 1×1×32; the figure's caption "16 convoluted filters of size 1×1×32",
    # its first line taken
    right(RGB, "q9.filters", "caption", "16 convoluted"),
    # right: 2×2 max pooling, stride 2 (F.max_pool2d) of each channel: R all 1, G all 2, B 2 then 4
    right(RGB, "q11.R", "labelled", r"R = \begin{bmatrix} 1 & 1 \\ 1 & 1 \end{bmatrix}"),
    right(RGB, "q11.G", "labelled", r"G = \begin{bmatrix} 2 & 2 \\ 2 & 2 \end{bmatrix}"),
    right(RGB, "q11.B", "labelled", r"B = \begin{bmatrix} 2 & 2 \\ 4 & 4 \end{bmatrix}"),
    # --- seed 002 → conv-pool-basics: the lecture's worked examples, all right. Examples 1–3 show
    # only a first value or a picture (ex1 "4", ex2 "114"), so no final matrix is taken from them.
    # right: 10 → 10 (pad 1) → 10 (3×3 pool, stride 1, pad 1) → 10 → 10 → ⌊(10 + 2 − 2)/2⌋ + 1 = 6;
    # the six "Dimension" lines of the step-by-step slides, in order
    right(
        BASICS,
        "ex4.shapes",
        "dimension-lines",
        "\n".join(
            [
                "Dimension: 10 x 10 x 40",
                r"Output Dimensions: $10 \times 10 \times 40$",
                "Dimension: 10 x 10 x 40",
                "Dimension: 10 x 10 x 20",
                r"Output Dimensions: $10 \times 10 \times 20$",
                "Dimension: 6 x 6 x 20",
            ]
        ),
    ),
    # right: (3·3·10 + 1)·40
    right(
        BASICS,
        "ex4.conv1_params",
        "latex-chain",
        r"$$(3 \times 3 \times 10 + 1) \times 40 = (90 + 1) \times 40 = 3640$$",
    ),
    # right: (3·3·40 + 1)·20, the pooling keeps 40 channels
    right(
        BASICS,
        "ex4.conv2_params",
        "latex-chain",
        r"$$(3 \times 3 \times 40 + 1) \times 20 = (360 + 1) \times 20 = 7220$$",
    ),
    # right: 3640 + 7220; pooling and ReLU have no parameters
    right(BASICS, "ex4.params", "labelled-chain", "Total Parameters = 3640(First Conv) + 7220(Second Conv) = 10860"),
    right(BASICS, "ex4.params", "thousands", "10,860"),
    # right: (3·3·20 + 1)·10
    right(BASICS, "ex5.params", "labelled", "Number of Parameters = 1810"),
    # --- seed 003 → mobilenet-yolo: formulas and most values right; the third receptive field
    # and the four reduction percentages are wrong.
    # right: "same" padding keeps H × W, N filters
    right(MOBILE, "q1a.output_shape", "latex", r"$$H \times W \times N$$"),
    # right: H·W·N outputs, K·K·M multiply-accumulates each
    right(MOBILE, "q1a.macs", "latex", r"$$\text{Total Operations} = H \times W \times N \times K \times K \times M$$"),
    # right: ⌊(128 + 4 − 5)/2⌋ + 1 = 64, 64 filters; given as "H' = W' = … = 64" and "N = 64",
    # assembled in the student's notation
    right(MOBILE, "q1b.shape1", "assembled", r"64 \times 64 \times 64"),
    # right: ⌊(64 + 4 − 5)/2⌋ + 1 = 32, 128 filters; assembled the same way
    right(MOBILE, "q1b.shape2", "assembled", r"32 \times 32 \times 128"),
    # right: ⌊(32 + 4 − 5)/2⌋ + 1 = 16, 256 filters; typed so in part D
    right(MOBILE, "q1b.shape3", "latex", r"$$16 \times 16 \times 256$$"),
    # right: H'·W'·N·K²·M for each layer, left as products
    right(MOBILE, "q1b.macs1", "latex-product", r"$$\text{Cost} = 64 \times 64 \times 64 \times 5^2 \times 3$$"),
    right(MOBILE, "q1b.macs2", "latex-product", r"$$\text{Cost} = 32 \times 32 \times 128 \times 5^2 \times 64$$"),
    right(MOBILE, "q1b.macs3", "latex-product", r"$$\text{Cost} = 16 \times 16 \times 256 \times 5^2 \times 128$$"),
    # right: the kernel itself
    right(MOBILE, "q1b.rf1", "latex", r"$$R_1 = 5.$$"),
    # right: 5 + (5 − 1)·2, layer 1's stride 2
    right(MOBILE, "q1b.rf2", "latex-chain", r"$$R_2 = 5 + (5 - 1) \times 2 = 13.$$"),
    # wrong: 13 + (5 − 1)·2 uses layer 2's own stride; the jump is 2·2 = 4, so 13 + 16 = 29
    # → receptive-field-local-stride
    wrong(
        MOBILE,
        "q1b.rf3",
        "latex-chain",
        r"$$R_3 = 13 + (5 - 1) \times 2 = 21.$$",
        "receptive-field-local-stride",
    ),
    # right: depthwise M·K² plus pointwise M·N
    right(
        MOBILE,
        "q1c.params_formula",
        "latex",
        r"$$\text{Params (depthwise separable)} = M \cdot K^2 + M \cdot N$$",
    ),
    # right: H·W·M·K² + H·W·M·N with H, W the output size
    right(
        MOBILE,
        "q1c.macs_formula",
        "latex",
        r"$$\text{Cost (depthwise separable)} = H \cdot W \cdot M \cdot K^2 + H \cdot W \cdot M \cdot N$$",
    ),
    # right: 64·25 + 64·128 = 9792 and 128·25 + 128·256 = 35968
    right(MOBILE, "q1c.params2", "latex-sum", r"$$\text{Params (depthwise separable)} = 64 \cdot 5^2 + 64 \cdot 128$$"),
    right(
        MOBILE, "q1c.params3", "latex-sum", r"$$\text{Params (depthwise separable)} = 128 \cdot 5^2 + 128 \cdot 256$$"
    ),
    # right: 32·32·9792 = 10,027,008 and 16·16·35968 = 9,207,808
    right(
        MOBILE,
        "q1c.macs2",
        "latex-product",
        r"$$\text{Cost (depthwise separable)} = 32 \cdot 32 \cdot (64 \cdot 5^2 + 64 \cdot 128)$$",
    ),
    right(
        MOBILE,
        "q1c.macs3",
        "latex-product",
        r"$$\text{Cost (depthwise separable)} = 16 \cdot 16 \cdot (128 \cdot 5^2 + 128 \cdot 256)$$",
    ),
    # wrong: "about 86% … 91% … 92% … 94%"; the reductions are 1 − 9792/204800 = 95.22% (the MACs
    # the same ratio) for layer 2 and 1 − 35968/819200 = 95.61% for layer 3. No known mistake
    # gives these numbers; the "about" is left off (see the report on prose around values)
    wrong(MOBILE, "q1c.param_reduction2", "percent", "86%", None),
    wrong(MOBILE, "q1c.macs_reduction2", "percent", "91%", None),
    wrong(MOBILE, "q1c.param_reduction3", "percent", "92%", None),
    wrong(MOBILE, "q1c.macs_reduction3", "percent", "94%", None),
    # right: 16·16·256 = 65,536 inputs, 65,536·200 + 200
    right(MOBILE, "q1d.fc_params", "latex-chain", r"$$\text{Params (FC)} = 13,107,200 + 200 = 13,107,400$$"),
    # right: 204,800 + 819,200 standard (no bias) plus the FC layer
    right(MOBILE, "q1d.total_standard", "latex-chain", r"$$1,024,000 + 13,107,400 = 14,131,400$$"),
    # right: 9,792 + 35,968 separable plus the FC layer
    right(MOBILE, "q1d.total_separable", "latex-chain", r"$$45,760 + 13,107,400 = 13,153,160$$"),
    # right: equals F.conv_transpose2d, as the bmatrix and as the torch printout the student pasted
    right(
        MOBILE,
        "q3c.output",
        "bmatrix",
        r"$$\text{Output} = \begin{bmatrix} 1 & 4 & 4 \\ 6 & 20 & 16 \\ 9 & 24 & 16 \end{bmatrix}.$$",
    ),
    right(
        MOBILE,
        "q3c.output",
        "torch-print",
        "tensor([[ 1.,  4.,  4.],\n        [ 6., 20., 16.],\n        [ 9., 24., 16.]])",
    ),
    # right: YOLOv1 B·5 + C = 2·5 + 80; YOLOv3 B·(5 + C) = 3·85
    right(MOBILE, "q4a.yolov1_depth", "sentence", r"$B \times 5 + C = 2 \times 5 + 80 = 90$ channels per cell"),
    right(MOBILE, "q4a.yolov3_depth", "sentence", r"$B \times (4 + 1 + C) = 3 \times 85 = 255$ channels per cell"),
    # --- seed 004 → cifar-convnet: "Assignment 3 Report". The Sobel convolution is not flipped;
    # every parameter count is right.
    # wrong: the cross-correlation (F.conv2d with the Sobel kernel as given); the true convolution
    # flips the kernel, which for Sobel negates every entry → kernel-not-flipped
    wrong(
        CIFAR,
        "t1a.output",
        "bmatrix",
        r"$$= \begin{bmatrix} 2 & -1 & 11 & -2 & -13 \\ 10 & -4 & 8 & 2 & -18 \\ 14 & -1 & -5 & 6 & -9"
        r" \end{bmatrix}$$",
        "kernel-not-flipped",
    ),
    # right: (k − 1)/2 = 2 for k = 5
    right(CIFAR, "t1c.padding", "latex-chain", r"$p = \frac{k-1}{2} \Rightarrow p = 2$"),
    # right: 512 − k + 1 = 504 gives k = 9; "512 + 1 − 504" (with a stray "padding = 1" before it)
    # has the same value, and "9 × 9" names the kernel, whose side is 9
    right(CIFAR, "t1d.kernel", "latex-square", r"Kernel size: $512 + 1 - 504 = 9 \times 9$"),
    # right: ⌊(504 − 2)/2⌋ + 1 = 252
    right(CIFAR, "t1e.shape", "labelled", "Spatial dim: 252×252"),
    # right: (5·5·3 + 1)·32, (5·5·32 + 1)·64, (5·5·64 + 1)·128; 32 → 16 → 8 → 4, so 4·4·128 = 2048
    # inputs, (2048 + 1)·64 and (64 + 1)·10
    right(CIFAR, "t1g.conv1", "bullet", r"- Layer 1: $(5 \cdot 5 \cdot 3 + 1) \cdot 32 = 2432$"),
    right(CIFAR, "t1g.conv2", "bullet", r"- Layer 2: $(5 \cdot 5 \cdot 32 + 1) \cdot 64 = 51264$"),
    right(CIFAR, "t1g.conv3", "bullet", r"- Layer 3: $(5 \cdot 5 \cdot 64 + 1) \cdot 128 = 204928$"),
    right(CIFAR, "t1g.fc1", "bullet", r"- Layer 4: $(2048 + 1) \cdot 64 = 131136$"),
    right(CIFAR, "t1g.fc2", "bullet", r"- Layer 5: $(64 + 1) \cdot 10 = 650$"),
    # right: the sum, 390,410
    right(CIFAR, "t1g.total", "latex", r"$= 390410$"),
    # right: (252 − 3)/1 + 1 = 250 (the working writes "− 1" but states 250): one side of the
    # square 250×250 map, which a human grader accepts for H×W
    right(CIFAR, "t1f.shape", "one-side", "= 250"),
    # --- the same answers as the students typed them in sentences, lists and under labels
    # right: 150528·75264 + 75264, behind a list bullet
    right(FC, "p2a.hidden_params", "bullet", "• Total: 11329414656"),
    # A sentence with more numbers than the answer is refused, not guessed from (the reader told
    # the student which number it took; it now says what it could not read instead): the first
    # non-size number was the answer in these four, but "3 (kernel) then 36" or "reach 8 in 36
    # layers" would have read the wrong one. 36 layers of 7×7 from 224 to 8:
    unread(FC, "p2b.num_layers", "sentence", "Need 36 layers to reach 8×8"),
    # 99 of the 104 layers, beside "256 channels"
    unread(FC, "p4.down_layers", "sentence", "Total 99 layers at 256 channels"),
    # 21 of the 26 layers, beside 256→256 and 224×224
    unread(FC, "p4.up_layers", "sentence", "Need 21 layers of 256→256 to reach spatial size of 224×224"),
    # 16 filters, beside their size 1×1×32
    unread(RGB, "q9.filters", "sentence", r"16 convoluted filters of size $1 \times 1 \times 32$"),
    # right: the six shapes of the lecture example, each line behind a bullet, a number and a label
    right(
        BASICS,
        "ex4.shapes",
        "labelled-list",
        "\n".join(
            f"- {i}. After {step}: ${shape}$"
            for i, (step, shape) in enumerate(
                [
                    ("3×3 Convolution", r"10 \times 10 \times 40"),
                    ("ReLU Activation", r"10 \times 10 \times 40"),
                    ("3×3 Max Pooling", r"10 \times 10 \times 40"),
                    ("3×3 Convolution", r"10 \times 10 \times 20"),
                    ("ReLU Activation", r"10 \times 10 \times 20"),
                    ("2×2 Max Pooling", r"6 \times 6 \times 20"),
                ],
                start=1,
            )
        ),
    ),
    # 3640 + 7220 in the seed's own sentence: one number, and no word around it bounds it (as
    # "less than 10,860" would): the number, with the words shown as not read
    right(
        BASICS,
        "ex4.params",
        "sentence",
        "Thus, the CNN has a total of 10,860 parameters, solely from the convolutional layers as pooling layers "
        "and ReLU activations do not add any learnable parameters.",
    ),
    # right: 64·25 + 64·128 and 128·25 + 128·256, with a note after the number
    right(MOBILE, "q1c.params2", "note", r"9,792 (\text{second layer})"),
    right(MOBILE, "q1c.params3", "note", r"35,968 (\text{third layer})"),
    # wrong: 95.22% is right; "about 86%" (a hedge and a unit around the value) matches no known mistake
    wrong(MOBILE, "q1c.param_reduction2", "about", "about 86% reduction", None),
    # right: the torch printout under its label line
    right(
        MOBILE,
        "q3c.output",
        "labelled-torch-print",
        "Output Matrix:\ntensor([[ 1.,  4.,  4.],\n        [ 6., 20., 16.],\n        [ 9., 24., 16.]])",
    ),
]


@pytest.mark.parametrize(("set_id", "key", "answer", "status", "code"), CASES)
def test_a_seed_answer_gets_its_verdict(set_id: str, key: str, answer: str, status: Status, code: str | None) -> None:
    part = grade_submission(BANK[set_id], {key: answer}).parts[key]
    assert (part.status, part.misconception) == (status, code), (part.read_as, part.feedback)
