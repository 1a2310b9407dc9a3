"""The bubblewrap command that builds the sandbox's walls around the warm worker.

- every namespace (PID, network with nothing but its own loopback, IPC, UTS, cgroup, mount; and user
  when the service is not root), no capabilities, a new session (no terminal to inject into);
- uid and gid 65534 (see :func:`_identity`); an empty environment (bwrap itself is started with none, so not even
  the sandbox's init holds the service's variables);
- a read-only root holding only ``/usr`` (the C library and the system's shared libraries), the
  Python installation and the runtime's packages, the runner's own package, a minimal ``/dev``, a
  ``/proc`` of the sandbox's own processes, and a size-capped tmpfs ``/scratch`` as the working
  directory: no ``/etc``, no home, no checkout of the service, no ``/tmp``;
- the seccomp filter of :func:`sandbox.seccomp.walls_filter`;
- dies with the service's process that started it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sandbox.limits import RUNTIMES

PACKAGE = Path(__file__).resolve().parent
SITE = "/runtime/site-packages"
RUNNER_ROOT = "/runtime/runner"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run here; the message says why in a sentence. Code is never run
    without it."""


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


def _site_packages(module: str) -> Path:
    """The directory holding ``module`` in the service's environment."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable(
            f"this server has no {module} runtime for code ({module} is not installed): ask your instructor"
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve().parent


def runtime_binds(runtime: str) -> list[str]:
    """Read-only binds of the runtime's packages at :data:`SITE`: numpy's own directories for
    ``numpy``; the whole environment for ``torch``, which needs a dozen packages besides."""
    if runtime not in RUNTIMES:
        raise SandboxUnavailable(f"the sandbox has no runtime named {runtime!r} (it has {', '.join(RUNTIMES)})")
    modules = RUNTIMES[runtime]
    if "torch" in modules:
        return ["--ro-bind", str(_site_packages("torch")), SITE]
    site = _site_packages("numpy")
    binds: list[str] = []
    for name in ("numpy", "numpy.libs"):
        if (site / name).is_dir():
            binds += ["--ro-bind", str(site / name), f"{SITE}/{name}"]
    return binds


def python_binds() -> tuple[list[str], str]:
    """The Python installation, read-only at its own path (its interpreter finds its library by an
    absolute RUNPATH), and the interpreter to run."""
    prefix = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    executable = prefix / "bin" / version
    if not executable.exists():
        raise SandboxUnavailable(f"no interpreter at {executable} to run the sandbox with")
    if prefix.is_relative_to("/usr"):
        return [], str(executable)
    # its parents are made traversable by anyone (bwrap would copy the host's modes: /root is 0700)
    parents = [arg for parent in reversed(prefix.parents[:-1]) for arg in ("--perms", "0755", "--dir", str(parent))]
    return [*parents, "--ro-bind", str(prefix), str(prefix)], str(executable)


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
        interpreter, "-I", "-S", "-B", "-c", bootstrap, *RUNTIMES[runtime],
    ]  # fmt: skip
