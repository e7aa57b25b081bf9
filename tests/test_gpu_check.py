"""benchmarks/gpu_check.py (issue 37): one line and nothing written without CUDA; every step walked
on the CPU at toy sizes (--device cpu --tiny), so a typo in the GPU path is caught here.  Timings
are recorded, never asserted."""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
RESULTS = SCRIPT.parent / "results" / "gpu.json"


def _run(*args, cwd, timeout=300):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # no CUDA even on a GPU machine
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)


def test_without_cuda_one_line_exit_0_nothing_written(tmp_path):
    before = RESULTS.stat().st_mtime_ns if RESULTS.exists() else None
    out = _run(cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "gpu-check: no CUDA device (torch.cuda.is_available() is False); nothing to check"]
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []
    assert (RESULTS.stat().st_mtime_ns if RESULTS.exists() else None) == before
    assert not RESULTS.with_name(RESULTS.name + ".tmp").exists()


def test_cpu_refuses_the_gpu_results_file(tmp_path):
    out = _run("--device", "cpu", "--tiny", cwd=tmp_path)
    assert out.returncode == 2 and "--output" in out.stderr


def test_cpu_tiny_mode_walks_every_step(tmp_path):
    output = tmp_path / "sub" / "gpu.json"
    out = _run("--device", "cpu", "--tiny", "--output", str(output), cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads(output.read_text())
    assert not output.with_name("gpu.json.tmp").exists()
    assert {"environment", "sizes", "criteria", "checks", "timings", "ratios", "sampling", "passed",
            "wall_s"} <= set(result)
    assert result["passed"] is True and result["size"] == "tiny"
    assert result["environment"]["device_type"] == "cpu" and result["environment"]["torch"]
    assert {"device", "torch", "cuda", "transformers", "liger_kernel", "vllm"} <= set(result["environment"])
    checks = {c["check"]: c for c in result["checks"]}
    expected = {f"{path}/{loss}/{dtype}/{n}" for path in ("logits", "fused") for loss in ("ce", "ts2")
                for dtype in ("bfloat16", "float32") for n in result["sizes"]["tokens"]}
    assert expected <= set(checks)
    assert {"train_step", "sampling", "generate_cli"} <= set(checks)
    assert all(c["passed"] for c in checks.values()), [c for c in checks.values() if not c["passed"]]
    for name in expected:
        c = checks[name]
        assert c["loss_tol"] > 0 and ("loss_max_abs_err" in c or "loss_abs_err" in c)
    train = checks["train_step"]
    assert train["returncode"] == 0 and train["fused_loss"] is True and train["config_written"]
    assert train["bf16"] is True and train["final_step"] == 1
    methods = {(r["kind"], r["method"]) for r in result["timings"]}
    assert {("logits", "torch_ce"), ("logits", "ts2"), ("logits", "ts2_ce"), ("hidden", "torch_matmul_ce"),
            ("hidden", "ts2_fused"), ("hidden", "ts2_fused_ce")} <= methods
    assert all("time_s" in r for r in result["timings"]), result["timings"]
    assert {(r["method"], r["baseline"]) for r in result["ratios"]} >= {("ts2", "torch_ce"),
                                                                        ("ts2_fused", "torch_matmul_ce")}
    engines = {r["engine"]: r for r in result["sampling"]}
    assert set(engines) == {"native", "hf_generate", "vllm"}
    for name in ("native", "hf_generate"):
        assert engines[name]["generated_tokens"] == engines[name]["expected_tokens"] > 0
        assert engines[name]["tokens_per_s"] > 0
    assert "skipped" in engines["vllm"] or engines["vllm"].get("tokens_per_s")
    assert "PASSED" in out.stdout and str(output) in out.stdout


def _gpu_check_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_float64_reference_matches_the_authors_formulation():
    """The GPU check's reference (full sort, autograd, no entmax, no ts2) against tests/references.py
    (entmax) on every named case without -inf: ties at the threshold, clamp, huge logits."""
    import pytest
    import torch
    from cases import CASES, make_case
    from references import authors_sparsemax_plus, loss_and_grad

    gpu_check = _gpu_check_module()
    for case in CASES:
        z, y = make_case(case)
        if torch.isinf(z).any():
            continue
        loss, grad = loss_and_grad(functools.partial(gpu_check.reference_rows, "ts2"), z, y)
        ref_loss, ref_grad = loss_and_grad(authors_sparsemax_plus, z, y)
        torch.testing.assert_close(loss, ref_loss, rtol=1e-10, atol=1e-9, msg=case)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-10, msg=case)
    with pytest.raises(AssertionError):  # the comparison can fail: a wrong alpha is seen
        torch.testing.assert_close(gpu_check.reference_rows("ts2", z, y) + 1e-6, authors_sparsemax_plus(z, y))
