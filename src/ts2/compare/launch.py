"""`ts2 compare` under a launcher: ``torchrun --nproc_per_node W -m ts2.cli compare CONFIG --output OUT``.

Rank 0 runs the comparison: every decision, file, probe panel and the report.  The other ranks
carry out its orders, which it broadcasts over the launcher's process group:
- ``train``: every training run is data parallel across the W ranks (the HF Trainer's DDP).  The
  configured batch stays the global one: ``gradient_accumulation_steps`` (else
  ``per_device_train_batch_size``) is divided by W, so a step sees as many examples as in one
  process, and the same ones (Accelerate deals the one sampler's batches out to the ranks).
- ``sample``: each sampling stage is shared out as in ``ts2 generate`` (``ts2.generate.sharding``):
  rank r samples the prompts at positions r, r + W, ...; rank 0 merges them into the sample file.
- ``done``: the comparison is over.
A failure on any rank ends the launcher's job (torchrun stops the other ranks); rerunning the same
command resumes from the files rank 0 wrote, with any number of processes.

The group's timeout is long because the other ranks wait while rank 0 alone imports a model,
probes and writes the report.
"""

from __future__ import annotations

import contextlib
import gc
import os

from ..generate import sharding

WAIT_HOURS = 24.0


class Single:
    """One process: train and sample here."""

    processes = 1

    def runtime(self, runtime):
        return runtime

    def train(self, settings: dict):
        from ..training import train

        return train(**settings)

    def sample(self, sampler, model_dir: str, runtime, prompts, path, settings, chat, batch_tokens: int):
        return sampler.run(prompts, path, settings, chat, batch_tokens, progress=False)

    def close(self) -> None:
        pass


class Leader(Single):
    """Rank 0 of a launcher: orders the other ranks to train and sample with it."""

    def __init__(self, ranks: sharding.Ranks):
        self.ranks, self.processes = ranks, ranks.world
        sharding.init_group(WAIT_HOURS)

    def runtime(self, runtime):
        return sharding.rank_runtime(runtime, self.ranks)

    def train(self, settings: dict):
        settings = data_parallel(settings, self.ranks.world)
        _order("train", settings)
        return super().train(settings)

    def sample(self, sampler, model_dir: str, runtime, prompts, path, settings, chat, batch_tokens: int):
        _order("sample", model_dir, runtime, prompts, path, settings, chat, batch_tokens)
        return sharding.sample_shared(sampler, prompts, path, settings, chat, batch_tokens, False, self.ranks)

    def close(self) -> None:
        _order("done")
        sharding.finish()


def follow(ranks: sharding.Ranks) -> None:
    """A rank other than 0: carry out rank 0's orders until it is done."""
    from ..generate import Sampler
    from ..training import train

    sharding.init_group(WAIT_HOURS)
    loaded, sampler = None, None
    while True:
        kind, *args = _order()
        if kind == "done":
            break
        if kind == "train":
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # rank 0 keeps the log
                train(**args[0])
        else:
            model_dir, runtime, prompts, path, settings, chat, batch_tokens = args
            if loaded != (model_dir, runtime):
                sampler = None
                gc.collect()  # the previous model's memory goes before the next one loads
                sampler = Sampler.load(model_dir, sharding.rank_runtime(runtime, ranks))
                loaded = (model_dir, runtime)
            sharding.sample_shared(sampler, prompts, path, settings, chat, batch_tokens, False, ranks)
        gc.collect()
    sharding.finish()


def data_parallel(settings: dict, world: int) -> dict:
    """Training ``settings`` for ``world`` data-parallel ranks with the global batch of one process:
    per_device_train_batch_size x gradient_accumulation_steps x world stays B x G.  A ValueError when
    neither divides by ``world``."""
    from ..training.run import TS2TrainingArguments

    fields = TS2TrainingArguments.__dataclass_fields__
    batch = settings.get("per_device_train_batch_size", fields["per_device_train_batch_size"].default)
    steps = settings.get("gradient_accumulation_steps", fields["gradient_accumulation_steps"].default)
    if steps % world == 0:
        return {**settings, "gradient_accumulation_steps": steps // world}
    if batch % world == 0:
        return {**settings, "per_device_train_batch_size": batch // world}
    raise ValueError(f"ts2 compare under {world} processes keeps the configured batch (per_device_train_batch_size="
                     f"{batch} x gradient_accumulation_steps={steps}), but neither divides by {world}: set one of "
                     f"them to a multiple of {world}, or launch {_divisors(batch, steps)} processes")


def _divisors(batch: int, steps: int) -> str:
    total = batch * steps
    return " or ".join(str(w) for w in range(1, total + 1) if batch % w == 0 or steps % w == 0)


def _order(*order):
    """Rank 0: broadcast ``order``; the other ranks: receive and return it."""
    import torch.distributed as dist

    box = [order if order else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
