"""The miniature world of `ts2 demo`: tasks with verifiable answers, corpora, verifiers.

Open tasks have many valid answers, closed tasks exactly one:
    prime    "name a prime below N"                    valid: primes < N
    multiple "name a multiple of K between LO and HI"  valid: multiples of K with LO < x < HI
    word     "name a word starting with PR"            valid: shipped words with prefix PR
    number   "give a number below N"                   valid: 0 .. N-1
    add      "add A and B"                             closed: A + B
    reverse  "reverse X Y Z"                           closed: Z Y X

Every token is a whole word (numbers 0-199 included), so an answer's first token decides it.
Stage 1 text ("Q: <prompt> A: <answer>") draws answers uniformly from the valid set, with a little
noise; stage 2 (SFT) data is chat-formatted, one response per prompt, with answers from a narrow
distribution (the first three valid answers, weights 0.6 / 0.3 / 0.1).  Prompts are split: SFT
sees only the "train" parameters; evaluation uses held-out ones (which stage 1 covered).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..metrics import answer_sets

WORDS = {
    "st": "stone star storm stick street study stamp stand",
    "ca": "cat car cake camp card cave cash cast",
    "pa": "path park page pair palm pan past paint",
    "ro": "road rock rope root rose roof room round",
    "ba": "ball bank band bag bark base bath barn",
    "mi": "milk mind mine mile mint mist mix mill",
    "tr": "tree train truck trip trail trap track trust",
    "fl": "flag flame flat flow flower flight floor flute",
    "sh": "ship shop shoe shell shade shark sheep shirt",
    "gr": "grass green grape grid grain grove grill group",
}
WORD_LIST = sorted(w for words in WORDS.values() for w in words.split())
LETTERS = list("abcdefghijklmnopqrstuvwxyz")
MAX_NUMBER = 199
SFT_WEIGHTS = (0.6, 0.3, 0.1)
NOISE = 0.05  # share of stage-1 sentences with an invalid answer


def primes_below(n: int) -> list[int]:
    return [p for p in range(2, n) if all(p % d for d in range(2, int(p**0.5) + 1))]


@dataclass(frozen=True)
class Task:
    kind: str
    params: tuple
    prompt: str
    valid: tuple[str, ...]  # every valid answer, in a fixed order

    @property
    def closed(self) -> bool:
        return self.kind in ("add", "reverse")

    @property
    def id(self) -> str:
        return f"{self.kind}:" + "-".join(map(str, self.params))


def make_task(kind: str, params: tuple) -> Task:
    if kind == "prime":
        (n,) = params
        return Task(kind, params, f"name a prime below {n}", tuple(map(str, primes_below(n))))
    if kind == "multiple":
        k, lo, hi = params
        return Task(kind, params, f"name a multiple of {k} between {lo} and {hi}",
                    tuple(str(x) for x in range(lo + 1, hi) if x % k == 0))
    if kind == "word":
        (prefix,) = params
        return Task(kind, params, f"name a word starting with {prefix}", tuple(WORDS[prefix].split()))
    if kind == "number":
        (n,) = params
        return Task(kind, params, f"give a number below {n}", tuple(str(x) for x in range(n)))
    if kind == "add":
        a, b = params
        return Task(kind, params, f"add {a} and {b}", (str(a + b),))
    if kind == "reverse":
        return Task(kind, params, "reverse " + " ".join(params), (" ".join(reversed(params)),))
    raise KeyError(kind)


def is_valid(task: Task, response: str) -> bool:
    """Well-formed and valid for the task (``ts2.metrics.answer_sets`` normalisation)."""
    return answer_sets.is_valid(response, task.valid)


def task_families(rng: random.Random) -> dict[str, dict[str, list[Task]]]:
    """All tasks, split into "train" (SFT) and "heldout" (evaluation) parameters."""
    families = {
        "prime": [("prime", (n,)) for n in range(10, 121)],
        "multiple": [("multiple", (k, lo, lo + 40)) for k in range(2, 13) for lo in range(0, 81, 5)],
        "word": [("word", (p,)) for p in WORDS],
        "number": [("number", (n,)) for n in range(3, 61)],
        "add": [("add", (a, b)) for a, b in {(rng.randrange(10, 60), rng.randrange(10, 60)) for _ in range(300)}],
        "reverse": [("reverse", tuple(rng.sample(LETTERS, 3))) for _ in range(300)],
    }
    split = {}
    for name, specs in families.items():
        specs = sorted(set(specs))
        rng.shuffle(specs)
        cut = max(2, len(specs) // 4)
        split[name] = {"heldout": [make_task(*s) for s in specs[:cut]],
                       "train": [make_task(*s) for s in specs[cut:]]}
    return split


def vocabulary() -> list[str]:
    template = ("Q: A: name a prime below multiple of between and word starting with give number add "
                "reverse").split()
    return sorted(set(template + [str(i) for i in range(MAX_NUMBER + 1)] + LETTERS + WORD_LIST + list(WORDS)))


def pretraining_text(families, count: int, rng: random.Random) -> list[str]:
    """Stage-1 lines "Q: <prompt> A: <answer>": answers uniform over the valid set, some noise."""
    tasks = [t for split in families.values() for ts in split.values() for t in ts]
    lines = []
    for _ in range(count):
        task = rng.choice(tasks)
        if rng.random() < NOISE:
            answer = rng.choice(vocabulary()[:50] + WORD_LIST)
        else:
            answer = rng.choice(task.valid)
        lines.append(f"Q: {task.prompt} A: {answer}")
    return lines


def sft_records(families, rng: random.Random) -> list[dict]:
    """Stage-2 chat records: one response per training prompt, from a narrow answer distribution."""
    records = []
    for split in families.values():
        for task in split["train"]:
            options = task.valid[: len(SFT_WEIGHTS)]
            answer = rng.choices(options, SFT_WEIGHTS[: len(options)])[0]
            records.append({"messages": [{"role": "user", "content": task.prompt},
                                         {"role": "assistant", "content": answer}]})
    rng.shuffle(records)
    return records


EVAL_FAMILIES = ("prime", "multiple", "word", "number", "add", "reverse")


def eval_prompts(families, per_family: int) -> list[dict]:
    """Held-out parameters of every family, in the ``ts2 compare`` evaluation format (all families
    appear in SFT, so every prompt is in the split "sft_categories")."""
    return [{"id": t.id, "prompt": t.prompt, "valid": list(t.valid), "kind": "closed" if t.closed else "open",
             "split": "sft_categories", "category": t.kind}
            for name in EVAL_FAMILIES for t in families[name]["heldout"][:per_family]]
