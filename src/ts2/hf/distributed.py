"""Leaving a torch.distributed run cleanly: the process group is destroyed while Python is alive.

Why: a gloo process group runs its collectives on C++ worker threads, and a worker drops the
finished work object (``ProcessGroupGloo::AsyncWork``) a moment after the caller has its result.
The work holds the collective's tensors, and dropping the last reference to a tensor that has a
Python object takes the GIL.  When the main thread has already reached interpreter finalization,
CPython ends any thread that asks for the GIL with ``pthread_exit``; the forced unwind runs through
the work's ``noexcept`` destructor and libstdc++ calls ``std::terminate``: "terminate called
without an active exception", SIGABRT, after every file was written, and the launcher reports the
run as failed.  Read off a core dump of the reproduction below (gloo worker thread:
``runLoop -> ~AsyncAllreduceWork -> ~vector<Tensor> -> decref_pyobject -> gil_scoped_acquire ->
take_gil -> PyThread_exit_thread -> std::terminate``; main thread: ``Py_FinalizeEx``).

The smallest reproduction has neither DeepSpeed nor ts2: four gloo ranks under torchrun that run
one ``all_reduce`` and return aborted in 15 of 20 runs; destroying the group in an ``atexit``
handler, or before returning, ended 0 of 20 that way (same machine, same hour).  DeepSpeed runs
hit it less often (about 1 in 20 here) only because their last collective usually finishes earlier.
PyTorch does not destroy the group at exit itself (pytorch/pytorch#179291 tried and was
abandoned; #190489 asks for a warning instead).
"""

from __future__ import annotations

import atexit

_registered = False


def destroy_process_group_at_exit() -> bool:
    """Register (once per process) an ``atexit`` handler that destroys the default process group
    and every group made from it, if one still exists then; ``destroy_process_group`` stops and
    joins the backends' worker threads while the interpreter can still run their destructors.

    ts2's trainers (``TS2Trainer``, ``TS2SFTTrainer``, and so ``ts2.train`` and ``ts2 train``)
    call it when they are built (the handler does nothing in a run without a process group); a
    script of your own that creates a process group can call it too.  Returns True when this call
    registered the handler."""
    global _registered
    if _registered:
        return False
    atexit.register(_destroy_if_initialized)
    _registered = True
    return True


def _destroy_if_initialized() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()

