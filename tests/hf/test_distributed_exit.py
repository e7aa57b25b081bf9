"""Leaving a torch.distributed run: a gloo worker thread that drops its last collective's tensors
during interpreter finalization aborts the process ("terminate called without an active
exception"); ts2's trainers destroy the process group in an atexit handler first
(``ts2.hf.distributed``). Real torchrun runs, real gloo."""

import os
import subprocess
import sys

import pytest
from tiny import addition_records, write_jsonl

HERE = os.path.dirname(__file__)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "DS_ACCELERATOR": "cpu"}
ABORT = "terminate called without an active exception"


def _torchrun(nproc: int, port: int, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
                           "--master_port", str(port), *argv], env=ENV, capture_output=True, text=True,
                          timeout=300)


def test_the_exit_hook_removes_the_gloo_abort_that_the_reproduction_shows():
    worker = os.path.join(HERE, "gloo_exit_worker.py")
    # The control first: without the hook, 4 ranks abort in about 3 runs of 4 (15 of 20 measured),
    # so 8 clean runs in a row (odds about 1e-5) would mean the reproduction no longer shows it.
    for _ in range(8):
        control = _torchrun(4, 29561, worker, "none")
        if control.returncode != 0:
            break
    assert control.returncode != 0 and ABORT in control.stdout + control.stderr, \
        "the reproduction stopped aborting: check whether torch now destroys process groups at exit"
    for _ in range(4):  # a broken hook passes 4 runs with odds about 0.4%
        run = _torchrun(4, 29561, worker, "hook")
        assert run.returncode == 0 and ABORT not in run.stdout + run.stderr, run.stderr[-3000:]


def test_a_library_caller_of_ts2_train_under_deepspeed_leaves_with_the_group_destroyed(tmp_path, llama_dir):
    pytest.importorskip("deepspeed")
    data = write_jsonl(tmp_path / "train.jsonl", addition_records(8))
    run = _torchrun(2, 29563, os.path.join(HERE, "library_caller.py"), str(llama_dir), str(data),
                    str(tmp_path / "out"), os.path.join(HERE, "..", "..", "examples", "zero3.json"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("process group alive at exit: False") == 2, run.stdout[-2000:]
    assert (tmp_path / "out" / "ts2_config.json").is_file()
