"""`ts2 probe`: the next-token distribution of one or more models at the answer position.

Two positions (``position``):
  "next"         right after the (chat-rendered) prompt: for a model that answers at once, the
                 distribution over the first token of its answer;
  "first_match"  the authors' protocol for the paper's Figure 1 (their
                 token_distribution/generate_single_token.py): sample ``runs`` continuations (T 0.6,
                 top-p 0.9, 10 new tokens), find in each the first generated token whose text
                 matches ``match`` (e.g. a digit), and average the distributions at those positions.

For each model: softmax and sparsemax of the logits there, the top-k tokens with both
probabilities, softmax entropy, sparsemax support size and, given valid answers, the softmax mass
outside their first tokens.  ``plot_probe`` draws one bar-chart panel per model.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch

from ..ops.sparsemax import sparsemax

FIRST_MATCH_SAMPLING = {"temperature": 0.6, "top_p": 0.9, "max_new_tokens": 10}


def valid_first_tokens(tokenizer, answers) -> set[int]:
    """Ids of the tokens that can start a valid answer: each answer as listed, lower-case,
    capitalised and upper-case, with and without a leading space."""
    ids = set()
    for answer in answers:
        for form in {answer, answer.lower(), answer[:1].upper() + answer[1:], answer.upper()}:
            for text in (form, " " + form):
                pieces = tokenizer(text, add_special_tokens=False)["input_ids"]
                if pieces:
                    ids.add(int(pieces[0]))
    return ids


def summarize(logits: torch.Tensor, tokenizer, valid=None, top_k: int = 10, soft=None, sparse=None) -> dict:
    """Top tokens, entropy, support and invalid mass of one distribution (logits [V], or the
    given averaged softmax / sparsemax probabilities)."""
    soft = torch.softmax(logits.float(), -1) if soft is None else soft
    sparse = sparsemax(logits.float()) if sparse is None else sparse
    top = torch.topk(soft, min(top_k, soft.numel()))
    entropy = float(-(soft * torch.log(soft.clamp_min(1e-30))).sum())
    result = {
        "top_tokens": [{"token": tokenizer.decode([int(i)]), "id": int(i), "softmax": float(soft[i]),
                        "sparsemax": float(sparse[i])} for i in top.indices],
        "entropy": entropy, "entropy_bits": entropy / math.log(2),
        "sparsemax_support": int((sparse > 0).sum()),
    }
    if valid:
        mask = torch.zeros_like(soft, dtype=torch.bool)
        mask[sorted(valid_first_tokens(tokenizer, valid))] = True
        result["valid_answers"] = sorted(valid)
        result["mass_outside_valid"] = float(soft[~mask].sum())
        result["sparsemax_mass_outside_valid"] = float(sparse[~mask].sum())
    return result


class NextTokenProbe:
    """A loaded model and tokenizer (from ``model_dir``, or given); see the module docstring."""

    def __init__(self, model_dir: str | None = None, device: str = "auto", dtype: str = "auto",
                 model=None, tokenizer=None, revision: str | None = None):
        """``model_dir``: a directory or a Hub id (at ``revision``), or a ``ts2.hf.hub.Resolved``."""
        from ..hf.hub import Resolved, resolve_model
        from ..hf.loading import load_model

        if model is None:
            model_dir = resolve_model(model_dir, revision)
            model, tokenizer = load_model(model_dir, device, dtype)
        self.revision = model_dir.revision if isinstance(model_dir, Resolved) else None
        if isinstance(model_dir, Resolved):
            model_dir = model_dir.name if model_dir.is_hub else model_dir.path
        self.model_dir = str(model_dir) if model_dir is not None else getattr(model, "name_or_path", "")
        self.model, self.tokenizer = model, tokenizer

    def _revision(self) -> dict:
        """A Hub model's commit, as results record it (nothing for a local directory)."""
        return {} if self.revision is None else {"model_revision": self.revision}

    def prompt_ids(self, prompt: str, chat: bool | None = None) -> tuple[list[int], bool]:
        tok = self.tokenizer
        use_chat = tok.chat_template is not None if chat is None else chat
        if use_chat:
            ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                          tokenize=True, return_dict=True)["input_ids"]
        else:
            ids = tok(prompt)["input_ids"]
        return list(ids), use_chat

    @torch.no_grad()
    def last_logits(self, sequences: list[list[int]], batch_size: int = 32) -> torch.Tensor:
        """Float32 logits [len(sequences), V] after the last token of each sequence (batched)."""
        from ..generate.native import pad_batch

        out = []
        for start in range(0, len(sequences), batch_size):
            ids, mask = pad_batch(sequences[start:start + batch_size], self.tokenizer.pad_token_id,
                                  self.model.device)
            positions = (mask.cumsum(1) - 1).clamp_min(0)
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                logits_to_keep=1).logits[:, -1]
            out.append(logits.float().cpu())
        return torch.cat(out)

    def __call__(self, prompt: str, valid_tokens: list[str] | None = None, top_k: int = 10,
                 chat: bool | None = None) -> dict:
        """The distribution right after the prompt ("next")."""
        ids, use_chat = self.prompt_ids(prompt, chat)
        result = {"model": self.model_dir, **self._revision(), "prompt": prompt, "chat_template": use_chat,
                  "position": "next"}
        return {**result, **summarize(self.last_logits([ids])[0], self.tokenizer, valid_tokens, top_k)}

    def many(self, prompts: list[str], valid: list[list[str]], chat: bool | None = None) -> list[dict]:
        """Entropy and invalid mass right after each prompt (one batched pass)."""
        ids = [self.prompt_ids(p, chat)[0] for p in prompts]
        logits = self.last_logits(ids)
        return [summarize(row, self.tokenizer, v, top_k=1) for row, v in zip(logits, valid)]

    def first_match(self, prompt: str, match: str, runs: int = 50, seed: int = 0,
                    valid_tokens: list[str] | None = None, top_k: int = 10, chat: bool | None = None) -> dict:
        """The authors' protocol: average distribution at the first sampled token matching ``match``."""
        from ..generate.native import Decoding, sample_prompts
        from ..hf.loading import stop_token_ids
        from ..ops.sampling import sample_key

        pattern = re.compile(match)
        ids, use_chat = self.prompt_ids(prompt, chat)
        stop_ids = frozenset(stop_token_ids(self.tokenizer, self.model.generation_config))
        decoding = Decoding(**FIRST_MATCH_SAMPLING, stop_ids=stop_ids)
        keys = [[sample_key(seed, prompt, j) for j in range(runs)]]
        samples = sample_prompts(self.model, [ids], keys, decoding, self.tokenizer.pad_token_id)[0]
        prefixes = []
        for sample in samples:
            for step, token in enumerate(sample.tokens):
                if pattern.search(self.tokenizer.decode([token], skip_special_tokens=True)):
                    prefixes.append(ids + sample.tokens[:step])
                    break
        result = {"model": self.model_dir, **self._revision(), "prompt": prompt, "chat_template": use_chat,
                  "position": "first_match",
                  "match": match, "runs": runs, "matched_runs": len(prefixes), "seed": seed,
                  "sampling": FIRST_MATCH_SAMPLING}
        if not prefixes:
            return {**result, "top_tokens": [], "entropy": None, "entropy_bits": None, "sparsemax_support": None}
        logits = self.last_logits(prefixes)
        soft = torch.softmax(logits, -1).mean(0)
        sparse = sparsemax(logits, dim=-1).mean(0)
        return {**result, **summarize(logits[0], self.tokenizer, valid_tokens, top_k, soft=soft, sparse=sparse)}


def plot_probe(results: list[dict], path: str | Path, names: list[str] | None = None) -> Path:
    """One panel per model: softmax (bars) and sparsemax (markers) of its top tokens."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = names or [Path(r["model"]).name for r in results]
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.0), squeeze=False)
    for ax, res, name in zip(axes[0], results, names):
        labels = [t["token"].strip() or repr(t["token"]) for t in res["top_tokens"]]
        x = range(len(labels))
        ax.bar(x, [t["softmax"] for t in res["top_tokens"]], color="#4C72B0", label="softmax")
        ax.plot(x, [t["sparsemax"] for t in res["top_tokens"]], "o", color="#DD8452", label="sparsemax")
        ax.set_xticks(list(x), labels, rotation=60, fontsize=7)
        title = name if res["entropy"] is None else f"{name}\nH={res['entropy']:.2f} nats"
        if "mass_outside_valid" in res:
            title += f", invalid={res['mass_outside_valid']:.2f}"
        ax.set_title(title, fontsize=8)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("probability")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
