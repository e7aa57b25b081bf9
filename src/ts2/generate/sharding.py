"""Sampling across the processes of a launcher (``torchrun``; any launcher that sets WORLD_SIZE,
RANK and the rendezvous variables): ``ts2 generate``, ``ts2 eval tasks --model`` and the sampling
stage of ``ts2 compare`` (``ts2.compare.launch``).

Under a launcher (WORLD_SIZE > 1) rank r of W samples the prompts at positions r, r + W, r + 2W, ...
of the prompt file, on its own device (``cuda:LOCAL_RANK`` when the device is auto and CUDA is
there; on the CPU each process gets an equal share of the cores), into its own part file
``OUTPUT.rank<r>-of-<W>``.  When every rank is done, rank 0 merges the output's earlier rows and
the parts into OUTPUT, in the prompt file's order, atomically, and removes the parts.  The sampler's
randomness belongs to each (seed, prompt, sample), so the merged rows are those of a one-process
run (up to float rounding of the logits in other batch compositions).  An interrupted run resumes:
each rank continues its part file, and prompts already in OUTPUT are not sampled again.

The ranks meet at barriers of the launcher's process group: gloo, with NCCL for CUDA tensors where
CUDA is there (so a training run in the same processes uses it too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .settings import GenerationResult


@dataclass(frozen=True)
class Ranks:
    rank: int
    world: int
    local_rank: int
    local_world: int

    def part(self, output: Path, rank: int | None = None) -> Path:
        """The part file of this rank (or of ``rank``)."""
        return output.with_name(f"{output.name}.rank{self.rank if rank is None else rank}-of-{self.world}")


def launcher_ranks() -> Ranks | None:
    """This process's place under a launcher, or None in a plain run."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    rank = int(os.environ["RANK"])
    return Ranks(rank, world, int(os.environ.get("LOCAL_RANK", rank)), int(os.environ.get("LOCAL_WORLD_SIZE", world)))


def share_device(device: str, ranks: Ranks) -> str:
    """The device of this rank: its own GPU under ``auto``, else the one asked for; on the CPU, the
    process's share of the cores."""
    import torch

    if device == "auto" and torch.cuda.is_available():
        return f"cuda:{ranks.local_rank % torch.cuda.device_count()}"
    if device in ("auto", "cpu"):
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // ranks.local_world))
    return device


def rank_runtime(runtime, ranks: Ranks):
    """The runtime of this rank's sampler: its own device (``share_device``).  Another engine than
    the native one runs its own processes: a ValueError."""
    from dataclasses import replace

    if runtime.engine != "native":
        raise ValueError(f"--engine {runtime.engine} runs its own processes; start it without a launcher "
                         f"(WORLD_SIZE={ranks.world}) and use --data_parallel_size / --tensor_parallel_size")
    return replace(runtime, device=share_device(runtime.device, ranks))


def init_group(timeout_hours: float | None = None) -> None:
    """The launcher's default process group, unless one exists: object collectives and barriers go
    through gloo; CUDA tensors (a data-parallel training run) through NCCL."""
    from datetime import timedelta

    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend, **({} if timeout_hours is None else
                                                {"timeout": timedelta(hours=timeout_hours)}))


def barrier() -> None:
    import torch.distributed as dist

    init_group()
    dist.barrier()


def sample_shared(sampler, prompts: list, output, settings, use_chat, batch_tokens: int, progress: bool,
                  ranks: Ranks):
    """Every rank calls this with the same arguments and its own ``sampler``: rank r samples its
    share of the prompts not yet in ``output`` into its part file, then rank 0 merges.  Returns the
    ``GenerationResult`` of all ranks together (counts summed; seconds: from start to the merge)."""
    import time

    import torch.distributed as dist

    output = Path(output)
    start = time.perf_counter()
    if ranks.rank == 0:  # a partly written last line is cut before any other rank reads the output
        sampler.completed(output, settings, prompts)
    barrier()
    merged = sampler.completed(output, settings, prompts)
    mine = [p for i, p in enumerate(prompts) if i % ranks.world == ranks.rank and p.id not in merged]
    own = sampler.run(mine, ranks.part(output), settings, use_chat, batch_tokens, progress and ranks.rank == 0)
    counts = [None] * ranks.world
    dist.all_gather_object(counts, (own.sampled, own.responses, own.tokens))
    if ranks.rank == 0:
        merge(output, [p.id for p in prompts], ranks)
    barrier()
    sampled, responses, tokens = (sum(c[k] for c in counts) for k in range(3))
    return GenerationResult(output, len(prompts), sampled, responses, tokens, time.perf_counter() - start)


def finish() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def merge(output: Path, order: list[str], ranks: Ranks) -> int:
    """Rank 0: OUTPUT's rows and every part's, in ``order`` (prompt ids), written atomically; the
    parts are removed.  Returns the number of rows."""
    from ..formats import resumable_rows, write_jsonl_atomic

    rows: dict[str, dict] = {}
    parts = [ranks.part(output, r) for r in range(ranks.world)]
    for path in [output, *parts]:
        for row in resumable_rows(path, cut=False, required=("id",)):
            rows.setdefault(str(row["id"]), row)
    write_jsonl_atomic(output, (rows[i] for i in order if i in rows))
    for path in parts:
        path.unlink(missing_ok=True)
    return len(rows)
