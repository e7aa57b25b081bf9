"""``ts2 eval`` and ``ts2 probe``: what a model or its samples are worth.

generations.py  ``ts2 eval diversity | code | answers`` over a generations file (code checks run
                in ``ts2.sandbox``)
reward.py       ``ts2 eval reward``: best-of-n / mean-of-n under a reward model, win rate
tasks.py        ``ts2 eval tasks``: the paper's OpenLLM evaluation (sampling, extraction, votes)
task_files.py   the six OpenLLM tasks read from local copies in the hub's layouts
probe.py        ``ts2 probe``: the paper's Figure-1 next-token probe

Each module imports its heavy dependencies (torch, Transformers, sentence-transformers) only
when called, so this package imports nothing itself.
"""
