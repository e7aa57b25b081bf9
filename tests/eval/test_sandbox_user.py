"""Containment without root: the evaluation runs as an ordinary user (the test drops to nobody, since
CI runs as root), so each check gets new user, PID, network and mount namespaces and a private
read-only root.  The existing hostile and cheating programs, and new ones that go around the Python
guard with ctypes to delete or overwrite a file of that user's, read it, reach a local server or
leave a process behind, harm nothing; the correct programs of the same run still pass."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from test_sandbox import CHEATS, CORRECT, FAST, HOSTILE, OWN_PROC, WRONG, _check, _server

import ts2

NOBODY = 65534
HERE = Path(__file__).parent
USER_HOSTILE = {
    "ctypes_delete_file": "import ctypes\nctypes.CDLL(None).unlink({canary!r}.encode())",
    "ctypes_overwrite_file": ("import ctypes, os\nlibc = ctypes.CDLL(None)\n"
                              "fd = libc.open({canary!r}.encode(), os.O_WRONLY | os.O_TRUNC)\n"
                              "libc.write(fd, b'dead', 4)"),
    "ctypes_delete_directory": ("import ctypes, os\nlibc = ctypes.CDLL(None)\n"
                                "for name in os.listdir({parent!r}):\n"
                                "    libc.unlink(os.path.join({parent!r}, name).encode())"),
    # passes the test (returns x + 1) only if it could read the user's file
    "read_user_file": "def add_one(x):\n    return x + (open({canary!r}).read() == 'alive')",
    "leave_a_process": ("import ctypes, os, time\nlibc = ctypes.CDLL(None)\n"
                        "if libc.fork() == 0:\n    libc.setsid()\n    if libc.fork() == 0:\n"
                        "        time.sleep(2)\n"
                        "        fd = os.open({marker!r}, os.O_WRONLY | os.O_CREAT, 0o666)\n"
                        "        os.write(fd, b'alive')\n    os._exit(0)"),
    "signal_the_evaluator": "import ctypes\nctypes.CDLL(None).kill(-1, 9)",
}


def _traversable(paths) -> list[tuple[Path, int]]:
    """Give others search (x) permission on every directory leading to ``paths`` (the interpreter
    lives under /root here); returns what changed, to restore."""
    changed = []
    for path in paths:
        path = Path(path).resolve()
        for directory in [path, *path.parents] if path.is_dir() else path.parents:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH and (directory, mode) not in changed:
                os.chmod(directory, mode | stat.S_IXOTH)
                changed.append((directory, mode))
    return changed


@pytest.fixture
def as_nobody(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to drop to nobody (and setpriv)")
    changed = _traversable([os.path.realpath(sys.executable), sys.prefix, sys.base_prefix,
                            Path(ts2.__file__).parent, HERE, tmp_path])
    try:
        yield lambda *argv: subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, *argv],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
                 "LANG": "C.UTF-8"}, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    finally:
        for directory, mode in reversed(changed):
            os.chmod(directory, mode)


def _orphans() -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"harness.py" in open(f"/proc/{pid}/cmdline", "rb").read():
                found.append(pid)
        except OSError:
            pass
    return found


def test_an_ordinary_user_gets_namespaces_and_a_private_root(as_nobody, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    canary, marker = home / "canary.txt", home / "still-alive"
    canary.write_text("alive")
    (home / "keys").write_text("secret")
    for path in (home, canary, home / "keys"):
        os.chown(path, NOBODY, NOBODY)  # the user's own files: without containment it could delete them
    srv, hits = _server()
    values = {"canary": str(canary), "parent": str(home), "port": srv.getsockname()[1], "marker": str(marker)}
    programs = {f"cheat:{k}": WRONG + "\n" + v for k, v in CHEATS.items()}
    programs |= {f"hostile:{k}": WRONG + "\n" + v.format(**values) for k, v in {**HOSTILE, **USER_HOSTILE}.items()}
    names = ["correct", *programs, "correct_again", "correct_own_proc"]
    checks = [_check(CORRECT), *(_check(source + "\n") for source in programs.values()), _check(CORRECT),
              _check(OWN_PROC)]
    spec = tmp_path / "checks.json"
    spec.write_text(json.dumps({"checks": [asdict(c) for c in checks], "limits": asdict(FAST)}))
    out = tmp_path / "run"
    out.mkdir()
    os.chown(out, NOBODY, NOBODY)
    result = as_nobody(str(HERE / "sandbox_driver.py"), str(spec), str(out / "results.json"))
    srv.close()
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    report = results["isolation"]
    if report["mode"] != "user_namespace":
        pytest.skip(f"this kernel gives an ordinary user no namespaces: {report['why_not']}")
    assert report["user_namespace"] and report["private_filesystem"] and report["own_proc"] and report["missing"] == []
    outcomes = dict(zip(names, results["outcomes"]))
    assert all(outcomes[name]["status"] == "passed" for name in ("correct", "correct_again", "correct_own_proc")), [
        outcomes[name] for name in ("correct", "correct_again", "correct_own_proc")]
    passed = [name for name in programs if outcomes[name]["status"] == "passed"]
    assert not passed, {name: outcomes[name] for name in passed}
    time.sleep(3)  # the double-forked program would write its marker after 2 s
    assert canary.read_text() == "alive" and (home / "keys").read_text() == "secret"
    assert not marker.exists() and not _orphans()
    assert not hits, "a program reached a local server"
    assert all("hunter2" not in o["error"] for o in results["outcomes"])
