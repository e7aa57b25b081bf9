"""A user's own script under torchrun: ``ts2.train`` with DeepSpeed ZeRO-3, then a normal return
(no ``os._exit``). Its own atexit handler, registered before training, runs after ts2's and prints
whether the process group still existed then.

    torchrun --nproc_per_node 2 library_caller.py MODEL DATA OUT DEEPSPEED_JSON
"""

import atexit
import sys

import torch.distributed as dist

import ts2

atexit.register(lambda: print(f"process group alive at exit: {dist.is_initialized()}", flush=True))
model, data, out, deepspeed = sys.argv[1:5]
ts2.train(model=model, data=data, output=out, loss="ts2", deepspeed=deepspeed, max_steps=2,
          per_device_train_batch_size=2, learning_rate=1e-3, report_to="none", save_strategy="no",
          disable_tqdm=True, dataloader_pin_memory=False)
