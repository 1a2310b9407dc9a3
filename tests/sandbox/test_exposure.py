"""Nothing of the service's own packages, and above all no problem set (whose ``solution:`` keys hold
the instructors' solutions), can be read from inside the sandbox, whichever way the service is
installed: a regular install (the image's ``pip install .``) puts them in the interpreter's
site-packages, beside the runtime's packages and under ``/usr`` or the installation the sandbox
binds. Submitted code walks every file it can see; a package planted beside the runtime's is looked
for; and the bind computation is checked on a fake installation. Of the packages a problem may add
(``numpy+scipy``), only those it asks for are there, with their requirements."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import site
import sys
import uuid
from pathlib import Path

import pytest

from sandbox import Limits, Sandbox, walls
from tests.sandbox.probes import LIMITS, probe, require_bwrap

REPO = Path(__file__).resolve().parents[2]
PROJECT = ("problems", "grader", "api", "cli", "harness")
#: a walk of everything visible takes seconds, and torch's worker needs its default memory
WALK_LIMITS = Limits(wall_seconds=120.0, cpu_seconds=120)


def package_dirs(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    return [Path(location) for location in (spec.submodule_search_locations or ())] if spec else []


def set_file_names() -> list[str]:
    """The names of every set file the service has: the repository's, and any ``*.yaml`` under its
    installed packages."""
    names = {path.name for path in (REPO / "problems" / "sets").glob("*.yaml")}
    for package in (*PROJECT, "sandbox", "migrations"):
        for directory in package_dirs(package):
            names.update(path.name for path in directory.rglob("*.yaml"))
    return sorted(names)


def module_digests() -> list[str]:
    """The SHA-256 of each non-empty module at the top of the service's own packages."""
    return sorted(
        hashlib.sha256(path.read_bytes()).hexdigest()
        for package in PROJECT
        for directory in package_dirs(package)
        for path in directory.glob("*.py")
        if path.stat().st_size
    )


# Reports every file named like a set file; every small file that reads as a set file (a
# ``solution:`` key holding a block, or one beside a top-level ``problems:`` key: a set file renamed);
# and every directory named like one of the service's packages that is installed as a package
# (directly in a site-packages, a dist-packages or on the sandbox's own import path) or holds one
# of the service's modules, byte for byte. Directories of those names that are neither (torch's
# C++ headers under ``include/torch/csrc/api``, a tool's ``cli``) are someone else's.
WALK = """
import hashlib, os, re, sys
SKIPPED = ("/proc", "/sys", "/dev")
PACKAGES = {"problems", "grader", "api", "cli", "harness"}
INSTALLS = ("site-packages", "dist-packages")
SOLUTION = re.compile(rb"(?m)^[ \\t-]*solution:[ \\t]*[|>]")
KEY = re.compile(rb"(?m)^[ \\t-]*solution:")
PROBLEMS = re.compile(rb"(?m)^problems:")
def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(1 << 20)).hexdigest()
    except OSError:
        return None
def reads_as_a_set_file(path):
    if os.path.islink(path) or os.path.getsize(path) > 1 << 17:
        return False
    with open(path, "rb") as f:
        text = f.read()
    # every pattern needs the key: looked for as bytes first, the multi-line patterns only then
    if b"solution:" not in text or b"\\0" in text[:1024]:
        return False
    return bool(SOLUTION.search(text) or (KEY.search(text) and PROBLEMS.search(text)))
def probe(names, digests, root="/"):
    names, digests = set(names.split()), set(digests.split())
    imports = {os.path.realpath(entry) for entry in sys.path if entry}
    found, files = [], 0
    for top, dirs, filenames in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in SKIPPED]
        for d in dirs:
            if d in PACKAGES:
                path = os.path.join(top, d)
                installed = os.path.basename(top) in INSTALLS or os.path.realpath(top) in imports
                modules = [os.path.join(path, f) for f in os.listdir(path) if f.endswith(".py")]
                if installed or any(digest(module) in digests for module in modules):
                    found.append(f"package {path}")
        for name in filenames:
            files += 1
            path = os.path.join(top, name)
            if name in names:
                found.append(f"named {path}")
            try:
                if reads_as_a_set_file(path):
                    found.append(f"content {path}")
            except OSError:
                pass
    return report(files, *found)
"""


#: The runtimes walked: torch's, and the widest of numpy's (a walk takes 40 s; the plain ``numpy``
#: runtime's view is a part of the wider one's, which the next test holds).
WALKED = ["torch", "numpy+matplotlib+scipy"]


def test_the_plain_numpy_runtime_sees_a_part_of_what_the_walked_one_sees() -> None:
    """The sandbox's command differs between runtimes only in the packages bound and imported, and
    the plain runtime's binds are among the wider one's: walking the wider view walks it."""
    narrow, wide = (walls.runtime_binds(runtime) for runtime in ("numpy", WALKED[1]))
    pairs = {tuple(narrow[i : i + 3]) for i in range(0, len(narrow), 3)}
    assert narrow and pairs <= {tuple(wide[i : i + 3]) for i in range(0, len(wide), 3)}


@pytest.mark.parametrize("runtime", WALKED)  # (the packages bind more)
def test_no_set_file_or_package_of_the_service_is_anywhere_inside(runtime: str) -> None:
    require_bwrap()
    with Sandbox(WALK_LIMITS, runtime=runtime) as box:
        files, *found = probe(box, WALK, " ".join(set_file_names()), " ".join(module_digests())).splitlines()
    assert int(files) > 1000  # the walk saw the interpreter's library and the runtime's packages
    assert found == []


def test_the_walk_finds_what_it_looks_for(sandbox: Sandbox) -> None:
    """The walk's own check, in the submission's scratch: a set file renamed, and one of the
    service's modules in a directory of its package's name, are found."""
    planting = f"""
import os
os.makedirs("/scratch/grader")
with open("/scratch/grader/engine.py", "w") as f:
    f.write({(REPO / "grader" / "engine.py").read_text()!r})
with open("/scratch/notes.txt", "w") as f:
    f.write({(REPO / "problems" / "sets" / "torch-model.yaml").read_text()!r})
"""
    seen = probe(sandbox, planting + WALK, "classic-exam.yaml", " ".join(module_digests()), "/scratch")
    assert seen.splitlines() == ["2", "package /scratch/grader", "content /scratch/notes.txt"]


def bound_site_packages() -> list[Path]:
    """The directories of installed packages a planted package would be seen in by the old walls:
    the one holding torch (bound whole for the torch runtime), and the interpreter's own (bound with
    its installation, or with ``/usr``)."""
    spec = importlib.util.find_spec("torch")
    assert spec is not None and spec.submodule_search_locations
    places = {Path(next(iter(spec.submodule_search_locations))).resolve().parent}
    places.update(Path(path).resolve() for path in site.getsitepackages([sys.base_prefix]) if os.path.isdir(path))
    return sorted(place for place in places if os.access(place, os.W_OK))


def test_a_package_installed_beside_the_runtime_is_not_seen() -> None:
    """A package planted in torch's site-packages and in the interpreter's own, as a regular install
    of the service leaves its ``problems`` there. Its top-level name is made unique rather than
    ``problems``: a namespace directory of that name would shadow the service's own package for any
    process of this environment that imports it meanwhile."""
    require_bwrap()
    name = f"leakprobe_{uuid.uuid4().hex[:12]}"
    planted = [place / name for place in bound_site_packages()]
    assert planted
    try:
        for top in planted:
            (top / "problems" / "sets").mkdir(parents=True)
            (top / "problems" / "sets" / "leak.yaml").write_text("problems:\n  - solution: |\n      secret\n")
        paths = [str(top / "problems" / "sets" / "leak.yaml") for top in planted]
        paths.append(f"{walls.SITE}/{name}/problems/sets/leak.yaml")
        with Sandbox(WALK_LIMITS, runtime="torch") as box:
            seen = probe(
                box,
                """
import os, torch
def probe(*paths):
    def write(directory):
        with open(os.path.join(directory, "planted.py"), "w") as f:
            f.write("x")
    lines = [f"{path}: {os.path.exists(path)}" for path in paths]
    masked = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(path)))) for path in paths[:-1]]
    lines += [f"listing {d}: {os.listdir(d) if os.path.isdir(d) else None}" for d in masked]
    lines += [attempt(f"write {directory}", lambda directory=directory: write(directory)) for directory in masked]
    return report(f"torch: {torch.ones(2).sum().item()}", *lines)
""",
                *paths,
            )
    finally:
        for top in planted:
            shutil.rmtree(top, ignore_errors=True)
    lines = dict(line.split(": ", 1) for line in seen.splitlines())
    assert lines.pop("torch") == "2.0"  # the runtime still works
    for path in paths:
        assert lines.pop(path) == "False", (path, seen)
    for what, outcome in lines.items():
        if what.startswith("listing"):
            assert name not in outcome, (what, outcome)
        else:
            assert outcome.startswith(("OSError: [Errno 30]", "PermissionError", "FileNotFoundError")), (what, outcome)


def fake_python(root: Path, prefix: str) -> Path:
    """A fake interpreter's library under ``root/prefix`` with a regular install of the service in
    its site-packages; its standard library's directory is returned."""
    stdlib = root / prefix / "lib" / "python3.11"
    (stdlib / "lib-dynload").mkdir(parents=True)
    (stdlib / "os.py").write_text("")
    sets = stdlib / "site-packages" / "problems" / "sets"
    sets.mkdir(parents=True)
    (sets / "x.yaml").write_text("problems:\n  - solution: |\n      secret\n")
    return stdlib


def test_debians_layout_hides_every_directory_of_packages(tmp_path: Path) -> None:
    """Debian's python: the interpreter under /usr, its packages in dist-packages, pip's in
    /usr/local's python directory."""
    usr = tmp_path / "usr"
    stdlib = fake_python(tmp_path, "usr")
    (usr / "lib" / "python3" / "dist-packages" / "grader").mkdir(parents=True)
    (usr / "local" / "lib" / "python3.11" / "dist-packages" / "api").mkdir(parents=True)
    masks = walls.package_masks([usr], stdlib, walls.package_candidates([usr]))
    assert masks == [
        usr / "lib" / "python3" / "dist-packages",
        stdlib / "site-packages",
        usr / "local" / "lib" / "python3.11",
    ]


def test_the_python_images_layout_hides_its_site_packages_and_keeps_its_library(tmp_path: Path) -> None:
    """The python image: the interpreter and its library under /usr/local, where ``pip install .``
    puts the service's packages, set files included."""
    usr = tmp_path / "usr"
    stdlib = fake_python(tmp_path, "usr/local")
    masks = walls.package_masks([usr, usr / "local"], stdlib, walls.package_candidates([usr, usr / "local"]))
    assert masks == [stdlib / "site-packages"]
    # each hidden behind an empty read-only tmpfs
    assert walls.mask_arguments(masks) == ["--tmpfs", str(masks[0]), "--remount-ro", str(masks[0])]


def test_the_masks_come_after_the_binds_that_show_them() -> None:
    """bwrap applies its options in order: a tmpfs placed before the bind would be covered by it."""
    require_bwrap()
    command = walls.command(runtime="torch", seccomp_fd=3, scratch_bytes=1 << 20)
    shown = ("/usr", str(Path(sys.base_prefix).resolve()))
    last_bind = max(i for i, arg in enumerate(command) if arg == "--ro-bind" and command[i + 2] in shown)
    masks = [i for i, arg in enumerate(command) if arg == "--tmpfs" and command[i + 1] != "/scratch"]
    assert masks, command
    for i in masks:
        assert i > last_bind
        assert command[i + 2 : i + 4] == ["--remount-ro", command[i + 1]]
    stdlib = walls._stdlib()
    assert not any(stdlib.is_relative_to(command[i + 1]) for i in masks)  # the library itself stays


def test_the_torch_runtime_binds_its_distributions_not_their_directory() -> None:
    binds = walls.runtime_binds("torch")
    sources = [Path(binds[index + 1]) for index in range(0, len(binds), 3)]
    targets = [binds[index + 2] for index in range(0, len(binds), 3)]
    assert not any(source.name in ("site-packages", "dist-packages") for source in sources)
    assert not {Path(target).name for target in targets} & {*PROJECT, "sandbox", "migrations"}
    names = {Path(target).name for target in targets}
    assert {"torch", "numpy", "sympy", "jinja2", "markupsafe"} <= names  # requirements, transitively
    assert all(target == f"{walls.SITE}/{Path(target).name}" for target in targets)


IMPORTS = """
import importlib
def probe(*names):
    def imported(name):
        try:
            importlib.import_module(name)
        except ImportError as error:
            return f"{name}: {type(error).__name__}"
        return f"{name}: imported"
    return report(*(imported(name) for name in names))
"""


@pytest.mark.parametrize(
    ("runtime", "importable", "hidden"),
    [
        ("numpy", ["numpy"], ["scipy", "matplotlib", "sklearn"]),
        ("numpy+scipy", ["numpy", "scipy.signal"], ["matplotlib", "sklearn", "PIL"]),
    ],
)
def test_only_the_packages_a_runtime_asks_for_are_there(runtime: str, importable: list[str], hidden: list[str]) -> None:
    require_bwrap()
    with Sandbox(LIMITS, runtime=runtime) as box:
        seen = probe(box, IMPORTS, *importable, *hidden).splitlines()
    assert seen == [f"{name}: imported" for name in importable] + [f"{name}: ModuleNotFoundError" for name in hidden]


def test_a_packages_requirements_are_bound_with_it_and_nothing_else() -> None:
    names = {Path(target).name for target in walls.runtime_binds("numpy+matplotlib")[2::3]}
    required = {"numpy", "PIL", "kiwisolver", "dateutil", "pyparsing", "cycler", "fontTools", "contourpy"}
    assert {"matplotlib", *required} <= names  # its requirements, transitively
    assert not names & {"scipy", "sklearn", "torch"}
