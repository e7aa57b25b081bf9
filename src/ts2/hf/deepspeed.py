"""DeepSpeed on machines without a GPU: the CPU accelerator, and its communication op built once.

DeepSpeed's CPU accelerator JIT-compiles a shared-memory communication op the first time a
process group is created.  When torchrun starts several ranks on a fresh machine they all compile
it at once and one of them can abort (seen here: SIGABRT on the first ZeRO-3 run, fine on the
second).  ``prepare_deepspeed`` compiles (or loads) it under an exclusive file lock before the
process group exists: the first rank builds it, the others wait and load the cached build.
"""

from __future__ import annotations

import fcntl
import functools
import os
from pathlib import Path


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available())


def select_cpu_accelerator() -> None:
    """DS_ACCELERATOR=cpu when DeepSpeed is installed, the variable is unset and there is no GPU.
    DeepSpeed otherwise detects the accelerator when transformers imports it (loading any model)
    and prints a warning to stdout, where it lands inside `ts2 eval`'s JSON."""
    import importlib.util

    if "DS_ACCELERATOR" not in os.environ and importlib.util.find_spec("deepspeed") is not None \
            and not _has_gpu():
        os.environ["DS_ACCELERATOR"] = "cpu"


@functools.cache
def prepare_deepspeed() -> str:
    """Select DeepSpeed's CPU accelerator when no GPU is present (unless ``DS_ACCELERATOR`` says
    otherwise) and build its communication op once under a lock.  Returns the accelerator name.
    Once per process: ``ts2 train`` calls it before parsing its arguments, ``ts2.train`` again."""
    select_cpu_accelerator()
    from deepspeed.accelerator import get_accelerator

    accelerator = get_accelerator()
    name = accelerator.device_name()
    if name != "cpu":
        return name
    import deepspeed.ops

    builder = accelerator.create_op_builder("ShareMemCommBuilder")
    if builder is None or not deepspeed.ops.__compatible_ops__.get(builder.NAME, False):
        return name
    root = Path(os.environ.get("TORCH_EXTENSIONS_DIR", Path.home() / ".cache" / "torch_extensions"))
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "ts2-deepspeed-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            builder.load(verbose=False)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return name


def read_deepspeed_config(config) -> dict:
    """A DeepSpeed configuration (a dict, or the path of a JSON file) checked against what this
    machine can give; a ValueError names the file and the setting otherwise."""
    import json

    where = "the --deepspeed dict"
    if not isinstance(config, dict):
        where = f"--deepspeed {config}"
        path = Path(config)
        if not path.is_file():
            raise ValueError(f"{where}: no such file")
        try:
            config = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc})") from exc
        if not isinstance(config, dict):
            raise ValueError(f"{where}: expected a JSON object")
    zero = config.get("zero_optimization", {})
    stage = zero.get("stage", 0)
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"{where}: zero_optimization.stage must be 0, 1, 2 or 3, got {stage!r}")
    if not _has_gpu():
        if config.get("fp16", {}).get("enabled") is True:
            raise ValueError(f"{where}: fp16.enabled=true needs a GPU and this machine has none "
                             f"(use \"auto\", or bf16, which DeepSpeed's CPU accelerator supports)")
        for part in ("offload_optimizer", "offload_param"):
            device = (zero.get(part) or {}).get("device", "none")
            if device == "nvme":
                import deepspeed.ops

                if not deepspeed.ops.__compatible_ops__.get("async_io", False):
                    raise ValueError(f"{where}: zero_optimization.{part}.device=nvme needs DeepSpeed's async_io "
                                     f"op, which cannot be built here (libaio missing)")
    return config


def zero_stage(trainer) -> int | None:
    """The ZeRO stage a HF Trainer runs with, or None without DeepSpeed."""
    if not getattr(trainer, "is_deepspeed_enabled", False):
        return None
    plugin = trainer.accelerator.state.deepspeed_plugin
    return int(plugin.zero_stage) if plugin is not None else None


def init_deepspeed_comm(args) -> None:
    """Let DeepSpeed's communication layer join the process group the HF arguments set up, before
    the model is loaded: under ZeRO-3 ``from_pretrained`` partitions the weights as they load
    (``deepspeed.zero.Init``), which reads the world size from that layer (with it missing,
    DeepSpeed counts one process and rejects the batch sizes HF computed for all of them)."""
    import deepspeed

    _ = args.device  # accelerate initialises torch.distributed (gloo on the CPU) for this run
    backend = args.ddp_backend or ("gloo" if str(args.device).startswith("cpu") else None)
    deepspeed.init_distributed(dist_backend=backend, dist_init_required=False)
