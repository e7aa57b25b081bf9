"""`ts2 eval reward`: score generations with a reward model, then best-of-n, excellent rate and
win rate against a baseline (``ts2.metrics.reward``).

Scoring: each (prompt, response) becomes one token sequence — through the reward model's chat
template when it has one (tokenised by the template itself, so the sequence holds exactly the
BOS the template writes, never a second one from re-tokenising rendered text), otherwise
prompt + response as plain text.  The reward is the score head's value at the last attended
token, read from the head's per-position output under right padding, so a sequence's reward
does not depend on the batch it is scored in or on which id pads it.  ``protocol="paper"``
renders as the authors do: ``apply_chat_template(..., add_generation_prompt=True)`` after the
assistant turn (their evaluation_reward.py), which appends the template's assistant header.
"""

from __future__ import annotations

from ..formats import DataError, conversation, is_table, read_generations, read_jsonl, read_table, write_text_atomic
from ..metrics.reward import default_ns, reward_report, win_rate
from ..protocols import check_protocol


def reward_sequences(tokenizer, prompt, responses: list[str], protocol: str = "ts2") -> list[list[int]]:
    """Token ids of each (prompt, response) pair as the reward model reads it."""
    if tokenizer.chat_template is None:
        return [list(tokenizer(f"{prompt}{r}")["input_ids"]) for r in responses]
    return [list(tokenizer.apply_chat_template(conversation(prompt, r), tokenize=True,
                                               add_generation_prompt=protocol == "paper", return_dict=True)
                 ["input_ids"]) for r in responses]


def score_sequences(model, sequences: list[list[int]], batch_size: int = 8) -> list[float]:
    """The reward of each sequence: the score head at its last token (right padding)."""
    import torch

    from ..generate.native import pad_batch

    head = getattr(model, "score", None)  # decoder reward models; encoders pool the first token
    captured = {}
    handle = head.register_forward_hook(lambda _m, _i, out: captured.__setitem__("values", out)) if head else None
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    scores: list[float] = []
    try:
        with torch.no_grad():
            for start in range(0, len(sequences), batch_size):
                chunk = sequences[start : start + batch_size]
                ids, mask = pad_batch(chunk, pad, model.device, side="right")
                out = model(input_ids=ids, attention_mask=mask)
                if head is None:
                    values = out.logits[:, 0]
                else:
                    last = mask.sum(dim=1) - 1
                    values = captured["values"][torch.arange(len(chunk), device=model.device), last, 0]
                scores.extend(values.float().tolist())
    finally:
        if handle is not None:
            handle.remove()
    return scores


def score_rows(rows: list[dict], model_path: str, batch_size: int = 8, device: str = "auto",
               dtype: str = "auto", protocol: str = "ts2") -> list[list[float]]:
    from ..hf.loading import load_model

    model, tok = load_model(model_path, device, dtype, kind="sequence_classification")
    if model.config.pad_token_id is None:  # HF refuses batches without one; the value is never read
        model.config.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    rewards = []
    for row in rows:
        rewards.append(score_sequences(model, reward_sequences(tok, row.get("prompt", ""), row["responses"],
                                                               protocol), batch_size))
    return rewards


def _baseline_rewards(path: str, ids: list[str], reward_model: str, **kw) -> tuple[list[list[float]], str]:
    """A baseline's rewards per prompt: pre-scored ("rewards" as ``--scores`` writes, or the
    authors' "reward" field, a number or a list) or scored now from its responses."""
    raw = read_table(path) if is_table(path) else read_jsonl(path)
    not_objects = [i + 1 for i, r in enumerate(raw) if not isinstance(r, dict)]
    if not_objects:
        raise DataError(f"{path}: row {not_objects[0]}: expected a JSON object")
    by_id = {str(r.get("id", i)): r for i, r in enumerate(raw)}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise DataError(f"{path}: no baseline for id(s) {', '.join(missing[:5])}")
    chosen = [by_id[i] for i in ids]
    if all("reward" in r or "rewards" in r for r in chosen):
        values = [r.get("rewards", r.get("reward")) for r in chosen]
        values = [v if isinstance(v, list) else [v] for v in values]
        if not all(v and all(isinstance(x, (int, float)) for x in v) for v in values):
            raise DataError(f"{path}: 'reward'/'rewards' must be a number or a non-empty list of numbers")
        return [[float(x) for x in v] for v in values], "pre-scored"
    by_id = {str(r["id"]): r for r in read_generations(path)}
    return score_rows([by_id[i] for i in ids], reward_model, **kw), "scored with the reward model"


def eval_reward(input_path: str, reward_model: str, baseline_path: str | None = None,
                ns: list[int] | None = None, device: str = "auto", dtype: str = "auto",
                protocol: str = "ts2", batch_size: int = 8, scores_path: str | None = None,
                revision: str | None = None) -> dict:
    """Reward summaries of ``input_path``'s generations; ``scores_path`` also receives each
    prompt's rewards as JSONL ({"id", "rewards"}), usable later as a pre-scored ``--baseline``.
    ``reward_model``: a directory or a Hub id (at ``revision``; its commit is recorded)."""
    from ..hf.hub import resolve_model

    check_protocol(protocol)
    rows = read_generations(input_path)
    name = str(reward_model)
    reward_model = resolve_model(reward_model, revision, "--reward_model")
    kw = dict(batch_size=batch_size, device=device, dtype=dtype, protocol=protocol)
    rewards = score_rows(rows, reward_model, **kw)
    ns = ns or default_ns(rewards)
    try:
        report = reward_report(rewards, ns)
    except ValueError as exc:
        raise DataError(f"{input_path}: {exc}") from exc
    if scores_path:
        import json

        write_text_atomic(scores_path, "".join(json.dumps({"id": r["id"], "rewards": v}) + "\n"
                                               for r, v in zip(rows, rewards)))
    settings = {"input": str(input_path), "reward_model": name, "reward_model_revision": reward_model.revision,
                "protocol": protocol,
                "baseline": baseline_path, "rendering": "chat template + add_generation_prompt (the authors')"
                if protocol == "paper" else "chat template, conversation only",
                "score": "score head at the last attended token"}
    if baseline_path:
        base, how = _baseline_rewards(baseline_path, [str(r["id"]) for r in rows], reward_model, **kw)
        for n in ns:
            report[f"win_rate@{n}"] = win_rate(rewards, base, n)
        settings["baseline_rewards"] = how
        settings["win_rate"] = ("mean over prompts of sigmoid(best_of@n - the baseline's best_of@n, or its only "
                                "reward)")
    report["settings"] = settings
    return report
