"""The smallest reproduction of the gloo abort at exit (no DeepSpeed, no trainer): a gloo group,
one all_reduce, a normal return. With ``hook`` it first registers ts2's
``destroy_process_group_at_exit``; without it about three runs in four of 4 ranks abort here.

    torchrun --nproc_per_node 4 gloo_exit_worker.py hook|none
"""

import sys

import torch
import torch.distributed as dist

from ts2.hf.distributed import destroy_process_group_at_exit

dist.init_process_group("gloo")
if sys.argv[1] == "hook":
    destroy_process_group_at_exit()
dist.all_reduce(torch.ones(1000))
