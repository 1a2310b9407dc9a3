"""The bubblewrap command that builds the sandbox's walls around the warm worker.

- every namespace (PID, network with nothing but its own loopback, IPC, UTS, cgroup, mount; and user
  when the service is not root), no capabilities, a new session (no terminal to inject into);
- uid and gid 65534 (see :func:`_identity`); an empty environment (bwrap itself is started with none, so not even
  the sandbox's init holds the service's variables);
- a read-only root holding only ``/usr`` (the C library and the system's shared libraries), the
  Python installation and the runtime's packages, the runner's own package, a minimal ``/dev``, a
  ``/proc`` of the sandbox's own processes, and a size-capped tmpfs ``/scratch`` as the working
  directory: no ``/etc``, no home, no checkout of the service, no ``/tmp``;
- of Python, the interpreter and its standard library only: every directory of installed packages
  under ``/usr`` or the installation (site-packages, dist-packages) is hidden behind an empty
  tmpfs, since a regular install of the service puts its own packages there, the problem sets
  and their solutions with them (see :func:`package_masks`); the runtime's packages are bound one
  distribution's files at a time (see :func:`runtime_binds`);
- the seccomp filter of :func:`sandbox.seccomp.walls_filter`;
- dies with the service's process that started it.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import site
import sys
import sysconfig
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from sandbox.limits import UnknownRuntime, runtime_modules, top_level_packages

PACKAGE = Path(__file__).resolve().parent
SITE = "/runtime/site-packages"
RUNNER_ROOT = "/runtime/runner"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says why in a sentence. Code is never run
    without it."""


class SandboxFailed(SandboxUnavailable):
    """The sandbox started, but failed before the submission's module was loaded, again when tried
    again: the sandbox's failure, not the submission's (none of it ran). Code is never run without it."""


# where bwrap is looked for: the system's directories, not the service's PATH
SEARCH_PATH = "/usr/bin:/bin:/usr/local/bin"


def bwrap_path() -> str:
    found = shutil.which("bwrap", path=SEARCH_PATH)
    if found is None:
        raise SandboxUnavailable(
            "bubblewrap is not installed, so submitted code cannot be run safely: install it "
            "(apt-get install -y bubblewrap) on the machines that grade code"
        )
    return found


def _stdlib() -> Path:
    """The interpreter's standard library (``lib-dynload`` inside it)."""
    return Path(sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix})).resolve()


def package_candidates(roots: Iterable[Path]) -> set[Path]:
    """Every directory where this or another Python of the machine installs packages under
    ``roots`` (site-packages and dist-packages; ``local/lib/python3.X`` whole, Debian's pip
    installs there), and every directory of installed packages the service's own interpreter knows
    of wherever it is (``site``'s, the user's, the venv's, any ``sys.path`` entry)."""
    found: set[Path] = set()
    for root in roots:
        for lib in ("lib*/python3*", "local/lib*/python3*"):
            found.update(root.glob(f"{lib}/site-packages"))
            found.update(root.glob(f"{lib}/dist-packages"))
        found.update(root.glob("local/lib*/python3*"))
    found.update(Path(path) for path in site.getsitepackages())
    found.update(Path(path) for path in site.getsitepackages([sys.base_prefix, sys.prefix]))
    found.add(Path(site.getusersitepackages()))
    found.update(Path(entry) for entry in sys.path if entry and os.path.isabs(entry))
    return found


def package_masks(roots: Iterable[Path], stdlib: Path, candidates: Iterable[Path]) -> list[Path]:
    """Of ``candidates``, the existing directories the sandbox would show (under one of ``roots``,
    bound read-only) that are not the standard library, its ``lib-dynload`` or a directory holding
    either: each to be hidden. Outermost only, in order."""
    roots = tuple(roots)
    kept = (stdlib, stdlib / "lib-dynload")
    masks: set[Path] = set()
    for candidate in candidates:
        path = candidate.resolve()
        if not path.is_dir() or not any(path.is_relative_to(root) for root in roots):
            continue
        if any(keep.is_relative_to(path) for keep in kept):
            continue
        masks.add(path)
    return sorted(path for path in masks if not any(path != other and path.is_relative_to(other) for other in masks))


def mask_arguments(masks: Iterable[Path]) -> list[str]:
    """An empty, read-only tmpfs over each directory. bwrap applies its options in order, so these
    come after the binds that show the directories (a later mount hides an earlier one's content);
    the tmpfs is remounted read-only since the final ``--remount-ro /`` covers the root mount only."""
    return [arg for path in masks for arg in ("--tmpfs", str(path), "--remount-ro", str(path))]


_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(dist: metadata.Distribution, extras: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """The distributions ``dist`` requires (with the extras asked of them), for ``extras`` of its
    own. A requirement under an extra is followed for the extras asked only; one under any other
    marker (a platform, a Python version) is followed whatever it says, which can only bind a
    package the runtime's dependencies name, and only if it is installed."""
    found: list[tuple[str, frozenset[str]]] = []
    for line in dist.requires or ():
        requirement, _, marker = line.partition(";")
        under = {_normal(extra) for extra in _EXTRA_MARKER.findall(marker)}
        if under and not under & extras:
            continue
        match = _REQUIREMENT.match(requirement)
        if match:
            asked = frozenset(_normal(extra) for extra in (match.group(2) or "").split(",") if extra.strip())
            found.append((_normal(match.group(1)), asked))
    return found


def runtime_distributions(runtime: str) -> list[metadata.Distribution]:
    """The installed distributions the runtime's modules need: theirs and those of their
    requirements, transitively (a requirement that is not installed is left out)."""
    try:
        packages = top_level_packages(runtime)
    except UnknownRuntime as error:
        raise SandboxUnavailable(str(error)) from None
    for package in packages:  # found without importing it: the sandbox's worker imports it, not the service
        if importlib.util.find_spec(package) is None:
            raise SandboxUnavailable(
                f"this server has no {package} for code ({package} is not installed): ask your instructor"
            )
    installed: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():  # in sys.path's order: the first of a name is the one imported
        installed.setdefault(_normal(dist.metadata["Name"] or ""), dist)
    for package in packages:
        if _normal(package) not in installed:
            raise SandboxUnavailable(
                f"{package} is installed without its distribution's metadata: the sandbox cannot tell which "
                "files its runtime needs"
            )
    found: dict[str, metadata.Distribution] = {}
    asked: set[tuple[str, frozenset[str]]] = set()
    todo = [(_normal(package), frozenset[str]()) for package in packages]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in asked or name not in installed:
            continue
        asked.add((name, extras))
        found[name] = installed[name]
        todo += _requirements(installed[name], extras)
    return list(found.values())


def top_level(dist: metadata.Distribution) -> list[Path]:
    """The files and directories ``dist`` installed at the top of its site-packages: its packages,
    modules and their shared libraries (``numpy.libs``); not its metadata, caches, ``.pth`` files, or
    what it put outside (``../../bin`` scripts). Read from its ``RECORD`` (``top_level.txt`` for an
    older install without one)."""
    record = dist.read_text("RECORD")
    if record is not None:
        names = {row[0].split("/", 1)[0] for row in csv.reader(record.splitlines()) if row}
    else:
        names = set((dist.read_text("top_level.txt") or "").split())
    skipped = (".dist-info", ".egg-info", ".pth")
    names = {name for name in names if name not in ("", "..", ".", "__pycache__") and not name.endswith(skipped)}
    paths = (Path(str(dist.locate_file(name))) for name in sorted(names))
    return [path for path in paths if path.exists()]


def runtime_binds(runtime: str) -> list[str]:
    """Read-only binds of the runtime's packages at :data:`SITE`, each of its distributions' own
    top-level files and directories one by one (:func:`runtime_distributions`): never the
    site-packages directory that holds them, which holds the service's own packages in a regular
    install."""
    binds: dict[str, Path] = {}
    for dist in runtime_distributions(runtime):
        for path in top_level(dist):
            binds.setdefault(path.name, path)  # a namespace directory (nvidia) shared by several
    return [arg for name, path in sorted(binds.items()) for arg in ("--ro-bind", str(path), f"{SITE}/{name}")]


def python_binds() -> tuple[list[str], str]:
    """The Python installation, read-only at its own path (its interpreter finds its library by an
    absolute RUNPATH), with every directory of installed packages that ``/usr`` or it would show
    masked (:func:`package_masks`), and the interpreter to run."""
    prefix = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    executable = prefix / "bin" / version
    if not executable.exists():
        raise SandboxUnavailable(f"no interpreter at {executable} to run the sandbox with")
    roots = (Path("/usr"), prefix)
    masks = mask_arguments(package_masks(roots, _stdlib(), package_candidates(roots)))
    if prefix.is_relative_to("/usr"):
        return masks, str(executable)
    # its parents are made traversable by anyone (bwrap would copy the host's modes: /root is 0700)
    parents = [arg for parent in reversed(prefix.parents[:-1]) for arg in ("--perms", "0755", "--dir", str(parent))]
    return [*parents, "--ro-bind", str(prefix), str(prefix), *masks], str(executable)


def _identity() -> list[str]:
    """The bwrap options (and the command prefix) that make the sandbox's processes uid 65534.

    As root, bwrap builds the namespaces without a user namespace and ``setpriv`` becomes uid and
    gid 65534 on the host itself, with no capability left (bounding set included) and no_new_privs:
    inside a user namespace created by root, uid 65534 would be root's outside, and files only root
    may read would be its own. As any other user, a user namespace maps that user to 65534 inside,
    without capabilities, and nested user namespaces are disabled.
    """
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv", path=SEARCH_PATH)
        if setpriv is None:
            raise SandboxUnavailable("setpriv (util-linux) is missing, so the sandbox cannot drop root")
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        drop = [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps", "-all",
                "--bounding-set", "-all", "--no-new-privs", "--"]  # fmt: skip
        return [*namespaces, "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                "--cap-add", "CAP_SETPCAP", "--", *drop]  # fmt: skip
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
            "--cap-drop", "ALL", "--"]  # fmt: skip


def command(*, runtime: str, seccomp_fd: int, scratch_bytes: int) -> list[str]:
    """The bwrap command line (the seccomp program is read from ``seccomp_fd``)."""
    bwrap = bwrap_path()
    python, interpreter = python_binds()
    bootstrap = (
        f"import sys; sys.path[:0] = [{RUNNER_ROOT!r}, {SITE!r}]; "
        "from sandbox import runner; runner.main()"
    )  # fmt: skip
    identity = _identity()
    split = identity.index("--")
    return [
        bwrap,
        *identity[:split],
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv", "OMP_NUM_THREADS", "1",
        "--setenv", "OPENBLAS_NUM_THREADS", "1",
        "--setenv", "MKL_NUM_THREADS", "1",
        "--setenv", "TMPDIR", "/scratch",
        "--setenv", "HOME", "/scratch",
        # matplotlib (a problem's package) draws into files only, and keeps its font cache in the scratch
        "--setenv", "MPLBACKEND", "Agg",
        "--setenv", "MPLCONFIGDIR", "/scratch/.matplotlib",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin",
        *python,
        *(arg for directory in ("/runtime", RUNNER_ROOT, SITE) for arg in ("--perms", "0755", "--dir", directory)),
        *runtime_binds(runtime),
        "--ro-bind", str(PACKAGE), f"{RUNNER_ROOT}/sandbox",
        "--dev", "/dev",
        "--remount-ro", "/dev",
        "--proc", "/proc",
        "--size", str(scratch_bytes),
        "--perms", "1777",  # the sandbox's uid must write it; only the sandbox's processes see it
        "--tmpfs", "/scratch",
        "--remount-ro", "/",
        "--chdir", "/scratch",
        "--seccomp", str(seccomp_fd),
        *identity[split:],
        interpreter, "-I", "-S", "-B", "-c", bootstrap, *runtime_modules(runtime),
    ]  # fmt: skip
