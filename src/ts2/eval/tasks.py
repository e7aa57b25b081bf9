"""`ts2 eval tasks`: the TS² authors' OpenLLM evaluation (ARC, HellaSwag, Winogrande, MMLU,
TruthfulQA MC1, GSM8K) from local copies of the datasets: sample n responses per question with
ts2's batched sampler, extract each answer, and report majority vote and best-of-n at several
depths with bootstrap intervals over questions.

Sampling and scoring are separate steps with a file between them: with ``model`` the samples go
to ``generations`` (ts2's resumable JSONL: an interrupted run resumes where it stopped); with
``input`` an existing generations file is scored without loading a model -- ts2's JSONL, or the
authors' voting dump (a JSON array of rows with ``responses``, ``gold`` and ``choices``), so the
same samples can be scored under the other protocol.
"""

from __future__ import annotations

from pathlib import Path

from ..formats import DataError, Prompt, read_generations, write_jsonl_atomic
from ..metrics.openllm import canonical_number, extract, task_report, votes
from ..protocols import check_protocol
from .task_files import TASKS, TaskQuestion, read_task

DEPTHS = (1, 4, 8, 16, 32)
# The authors' sampling (their voting_openllm.sh); top-k off.
SAMPLING = {"n": 32, "temperature": 0.6, "top_p": 0.9, "top_k": 0, "max_new_tokens": 256}
EXTRACTION = {
    "paper": "the authors' extract_choice_letter (last 'The answer is X' or lone letter, any case; else a quoted "
             "choice) / extract_gsm_number (first number after the last 'The answer is', compared as text)",
    "ts2": "the last 'The answer is X' with X among the question's letters / the number right after the last "
           "'The answer is', compared by value",
}


def sample_task(questions: list[TaskQuestion], model, generations, sampling, runtime, progress: bool = True):
    """Sample ``sampling.n`` responses per question into ``generations`` (resumed when it exists),
    each question asked through the model's chat template in the authors' prompt.  Under a launcher
    (torchrun) the ranks share the questions out and rank 0 merges (``ts2.generate.sharding``)."""
    from ..generate import sample_file

    prompts = [Prompt(q.id, q.prompt(), None, True) for q in questions]
    return sample_file(model, prompts, generations, sampling, True, runtime, progress)


def _user_text(prompt) -> str | None:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and prompt and isinstance(prompt[-1], dict):
        return prompt[-1].get("content")
    return None


def _questions_from_dump(rows: list[dict], task: str, path) -> list[TaskQuestion]:
    """The questions an authors' voting dump carries (gold and choices; no question text)."""
    questions = []
    for row in rows:
        if "gold" not in row:
            raise DataError(f"{path}: id {row['id']}: no 'gold'; give the task's data with --data")
        choices = None if task == "gsm8k" else row.get("choices")
        if task != "gsm8k" and not isinstance(choices, list):
            raise DataError(f"{path}: id {row['id']}: no 'choices' list for a multiple-choice task")
        gold = str(row["gold"])
        ts2_gold = canonical_number(gold) or gold if task == "gsm8k" else gold
        questions.append(TaskQuestion(str(row["id"]), _user_text(row.get("prompt")) or "", choices, ts2_gold, gold))
    return questions


def _match(questions: list[TaskQuestion], rows: list[dict], path) -> list[dict]:
    """The generations row of every question, checked to answer that question's prompt."""
    by_id = {str(r["id"]): r for r in rows}
    missing = [q.id for q in questions if q.id not in by_id]
    if missing:
        raise DataError(f"{path}: no generations for question id(s) {', '.join(missing[:5])}"
                        f"{' ...' if len(missing) > 5 else ''} ({len(missing)} of {len(questions)}; --limit "
                        f"scores the first N)")
    matched = []
    for q in questions:
        row = by_id[q.id]
        asked = _user_text(row.get("prompt"))
        if asked is not None and asked != q.prompt():
            raise DataError(f"{path}: id {q.id}: its responses answer another prompt than this question's "
                            f"(another --data, --split or --shuffle_choices?)")
        matched.append(row)
    return matched


def eval_task(task: str, data=None, input=None, model=None, generations=None, rows_path=None, split=None,
              limit: int | None = None, shuffle_seed: int | None = None, sampling=None, runtime=None,
              depths=None, protocol: str = "ts2", resamples: int = 2000, progress: bool = True,
              revision: str | None = None) -> dict:
    """Sample (``model``) or read (``input``) responses to a task's questions and score them.

    ``depths``: the sample counts voted over; None: ``default_depths`` of the fewest samples any
    question has (an explicit depth above that is an error).

    Returns the report of ``ts2.metrics.openllm.task_report`` with ``task``, ``protocol`` and
    ``settings``; ``rows_path`` also gets one JSON line per question (responses, extracted
    answers, gold, the votes at each depth).  Under a launcher every rank samples its share and
    rank 0 alone scores: the other ranks return None."""
    from ..generate import Runtime, SamplingSettings, sharding

    check_protocol(protocol)
    if task not in TASKS:
        raise ValueError(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
    if (model is None) == (input is None):
        raise ValueError("give exactly one of --model (sample, then score) and --input (score existing generations)")
    if resamples < 1:
        raise ValueError(f"--resamples must be >= 1, got {resamples}")
    if data is None and (shuffle_seed is not None or split is not None):
        raise ValueError("--shuffle_choices and --split apply to --data, which was not given")
    if revision is not None and model is None:
        raise ValueError("--revision applies to --model, which was not given")
    depths = None if depths is None else sorted(set(depths))
    sampling = sampling or SamplingSettings(**SAMPLING)
    runtime = runtime or Runtime()
    if model is not None:
        if data is None:
            raise ValueError("--model needs the task's questions: --data PATH")
        if generations is None:
            raise ValueError("--model needs a --generations file for the samples (rerun to resume)")
        if depths is not None and max(depths) > sampling.n:
            raise ValueError(f"--depths {max(depths)} is larger than --n {sampling.n}")
        runtime.check()
        sampling.check()
        runtime.check_sampling(sampling)
        from ..hf.hub import resolve_model

        resolved = resolve_model(model, revision)  # before any sampling: a model that cannot be had is refused
        revision = resolved.revision
        questions = read_task(task, data, split, limit, shuffle_seed)
        sample_task(questions, resolved, generations, sampling, runtime, progress)
        ranks = sharding.launcher_ranks()
        if ranks is not None and ranks.rank != 0:
            return None
        source = generations
    else:
        source = input
    rows = read_generations(source)
    if data is not None:
        questions = read_task(task, data, split, limit, shuffle_seed) if model is None else questions
        rows = _match(questions, rows, source)
    else:
        questions = _questions_from_dump(rows[:limit] if limit else rows, task, source)
        rows = rows[: len(questions)]
    answers = [[extract(r, q.choices, protocol) for r in row["responses"]] for q, row in zip(questions, rows)]
    if depths is None:
        depths = default_depths(min((len(a) for a in answers), default=0))
    golds = [q.gold_for(protocol) for q in questions]
    try:
        report = task_report(answers, golds, depths, resamples)
    except ValueError as exc:
        raise DataError(f"{source}: {exc}") from exc
    if rows_path is not None:
        lines = []
        for q, row, parsed, gold in zip(questions, rows, answers, golds):
            majority, best = votes(parsed, gold, depths)
            lines.append({"id": q.id, "gold": gold, "choices": q.choices, "responses": row["responses"],
                          "parsed": parsed, "majority_vote": majority, "best_of": best})
        write_jsonl_atomic(rows_path, lines)
    from_directory = data is not None and Path(data).is_dir()  # only a saved dataset dict has splits
    settings = {"task": task, "data": None if data is None else str(data),
                "split": (split or TASKS[task].split) if from_directory else None,
                "limit": limit, "shuffle_choices": shuffle_seed, "model": model, "model_revision": revision,
                "generations": str(source), "rows": None if rows_path is None else str(rows_path),
                "protocol": protocol, "extraction": EXTRACTION[protocol], "depths": depths,
                "bootstrap": {"over": "questions", "resamples": resamples, "seed": 0},
                "sampling": rows[0].get("settings") if rows else None}
    return {"task": task, "protocol": protocol, **report, "settings": settings}


def default_depths(samples: int) -> list[int]:
    """The authors' depths (1, 4, 8, 16, 32) up to ``samples``, and ``samples`` itself (best-of-all)."""
    return sorted({d for d in DEPTHS if d <= samples} | ({samples} if samples > 0 else set()))


def compare_prompts(task: str, questions: list[TaskQuestion]) -> list[dict]:
    """The questions as `ts2 compare` evaluation prompts: closed, one gold answer, read out of the
    response (``extract``), split and category the task's name."""
    rows = []
    for q in questions:
        row = {"id": q.id, "prompt": q.prompt(), "valid": [q.gold], "kind": "closed", "split": task,
               "category": task, "extract": "number" if q.choices is None else "choice"}
        if q.choices is not None:
            row["choices"] = q.choices
        rows.append(row)
    return rows


def default_generations(output) -> Path | None:
    """Where `ts2 eval tasks --output X.json` keeps its samples: X_generations.jsonl beside it."""
    return None if output is None else Path(output).with_name(Path(output).stem + "_generations.jsonl")
