"""TRL's SFTTrainer with a ts2 loss on the fused path (needs ``trl``).

``TS2SFTTrainer(model=..., args=SFTConfig(...), train_dataset=..., loss="ts2",
loss_kwargs={"alpha": 0.25})`` is TRL's SFTTrainer (its data handling, chat templates,
completion-only / assistant-only loss masks, packing and PEFT are untouched) whose loss is the
ts2 loss computed inside the model's forward by ``enable_fused_loss``: no [tokens, vocab]
logits, one forward per step (TRL's ``compute_loss_func`` route runs two and keeps the logits).

TRL's per-step ``entropy`` and ``mean_token_accuracy`` metrics need the logits and are dropped on
this path, and ts2's own ``ts2/*`` diagnostics are TS2Trainer's (not logged here).  The loss is
sum / ``num_items_in_batch``, scaled as ``Trainer.compute_loss`` scales it (times the process
count, or the GPU count under DataParallel), so gradient accumulation and DDP match one large batch.
"""

from __future__ import annotations

from trl import SFTTrainer

from ..losses import RowLoss, get_loss
from .distributed import destroy_process_group_at_exit
from .fused_forward import enable_fused_loss
from .trainer import loss_in_forward


class TS2SFTTrainer(SFTTrainer):
    def __init__(self, *args, loss: str | RowLoss = "ts2", loss_kwargs: dict | None = None, **kwargs):
        if kwargs.get("compute_loss_func") is not None:
            raise ValueError("TS2SFTTrainer computes the loss itself; choose it with loss=...")
        super().__init__(*args, **kwargs)
        destroy_process_group_at_exit()  # a gloo run could otherwise abort at exit (hf/distributed.py)
        self.ts2_loss = loss if isinstance(loss, RowLoss) else get_loss(loss, **(loss_kwargs or {}))
        enable_fused_loss(self.accelerator.unwrap_model(self.model), self.ts2_loss)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if "labels" not in inputs:
            raise ValueError("TS2SFTTrainer needs labels in every batch (TRL's collator provides them)")
        loss, outputs = loss_in_forward(self, model, {**inputs, "use_cache": False}, num_items_in_batch)
        return (loss, outputs) if return_outputs else loss
