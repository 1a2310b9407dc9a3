"""Set files built to crash the service, exhaust its memory or keep it busy for minutes, uploaded
by an instructor of their own course: each refused at its line with the limit named, while a
student of another course keeps submitting and ``/health`` keeps answering, and the server's
memory stays under the suite's bound (checked when the module's service stops)."""

from __future__ import annotations

import pytest

from problems.loader import BUILT_IN

from hostile_service import Hostile, bystanders

HEADER = "id: hostile\ntitle: Hostile\nproblems:\n"


def _network(layers: str, *, input_size: str = "[8, 8, 3]", quantity: str = "params.total") -> str:
    return (
        HEADER
        + "  - id: q\n    type: network\n"
        + f"    input: {input_size}\n    layers:\n{layers}"
        + f"    parts:\n      - {{key: a, quantity: {quantity}}}\n"
    )


ATTACKS = {
    # 1. nesting that crashed the YAML parser (30,000 levels: a segfault; 1,000: a 500)
    "30,000 nested flow sequences": HEADER + "  - " + "[" * 30_000,
    "1,000 nested flow sequences": HEADER + "  - " + "[" * 1_000 + "]" * 1_000 + "\n",
    "200,000 nested flow mappings": HEADER + "  - " + "{a: " * 200_000,
    "500 nested block sequences": HEADER + "".join("  " * i + "- \n" for i in range(500)),
    # 2. a few bytes that asked for gigabytes
    "repeat a billion times": _network(
        "      - {kind: repeat, name: r, times: 1000000000, layer: {kind: conv, out_channels: 3, kernel: 1}}\n"
    ),
    "nested repeats multiplying": _network(
        "      - {kind: repeat, name: outer, times: 1000, layers: [{kind: repeat, name: inner, times: 1000,"
        " layer: {kind: conv, name: c, out_channels: 3, kernel: 1}}]}\n"
    ),
    # 3. small files that took minutes
    "repeat until 1x1 from 3001x3001": _network(
        "      - {kind: repeat, name: r, until: {size: 1},"
        " layer: {kind: conv, name: c, out_channels: 3, kernel: 2, stride: 1}}\n",
        input_size="[3001, 3001, 3]",
    ),
    "a convolution padded by 5,000": (
        HEADER + "  - id: q\n    type: conv2d\n    input: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: 5000\n"
        "    parts:\n      - {key: a, quantity: output}\n"
    ),
    "a convolution padded by 20,000": (
        HEADER + "  - id: q\n    type: conv2d\n    input: [[1, 2], [3, 4]]\n    kernel: [[1]]\n    padding: 20000\n"
        "    parts:\n      - {key: a, quantity: output}\n"
    ),
    "a million-pixel input": _network(
        "      - {kind: conv, name: c, out_channels: 100000, kernel: 3}\n", input_size="[1000000, 1000000, 100000]"
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_hostile_set_file_is_refused_at_its_line_and_harms_nobody(hostile: Hostile, attack: str) -> None:
    with bystanders(hostile) as watch:
        response = hostile.upload(ATTACKS[attack])
    assert response.status_code == 422, response.text[:2000]
    issues = response.json()["detail"]
    assert issues and all(issue["line"] is not None for issue in issues), issues
    assert any(word in issue["message"] for issue in issues for word in ("budget", "limit", "at most")), issues
    watch.assert_unharmed()
    assert hostile.alive()
    assert hostile.api("GET", f"/courses/{hostile.attacker_course}/problem-sets").status_code == 200


def test_a_set_at_the_limits_still_uploads(hostile: Hostile) -> None:
    """The budgets are no wall against ordinary sets: the built-in library's largest networks
    (ResNet-152 on 224×224) validate, and a course may upload a copy of one."""

    text = (
        (BUILT_IN / "classic-architectures.yaml").read_text().replace("id: classic-architectures", "id: my-classics", 1)
    )
    with bystanders(hostile) as watch:
        response = hostile.upload(text)
    assert response.status_code == 201, response.text[:2000]
    watch.assert_unharmed()
