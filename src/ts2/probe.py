"""`ts2 probe`: the next-token distribution of one or more models at the answer position.

For each model: softmax and sparsemax of the next-token logits after the (chat-rendered) prompt,
the top-k tokens with both probabilities, softmax entropy, sparsemax support size and, given a set
of valid answer tokens, the softmax mass outside it.  ``plot_probe`` draws one bar-chart panel per
model (the paper's Figure 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from .ops.sparsemax import sparsemax


class NextTokenProbe:
    """A loaded model and tokenizer; call it with a prompt for its next-token distribution."""

    def __init__(self, model_dir: str):
        import transformers as tf

        self.model_dir = str(model_dir)
        self.tokenizer = tf.AutoTokenizer.from_pretrained(model_dir)
        self.model = tf.AutoModelForCausalLM.from_pretrained(model_dir).eval()

    def __call__(self, prompt: str, valid_tokens: list[str] | None = None, top_k: int = 10,
                 chat: bool | None = None) -> dict:
        tok = self.tokenizer
        use_chat = tok.chat_template is not None if chat is None else chat
        if use_chat:
            ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)["input_ids"]
        else:
            ids = tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            logits = self.model(input_ids=ids).logits[0, -1].float()
        soft = torch.softmax(logits, -1)
        sparse = sparsemax(logits)
        top = torch.topk(soft, min(top_k, soft.numel()))
        entropy = float(-(soft * torch.log(soft.clamp_min(1e-30))).sum())
        result = {
            "model": self.model_dir, "prompt": prompt, "chat_template": use_chat,
            "top_tokens": [{"token": tok.decode([int(i)]), "id": int(i), "softmax": float(soft[i]),
                            "sparsemax": float(sparse[i])} for i in top.indices],
            "entropy": entropy, "entropy_bits": entropy / math.log(2),
            "sparsemax_support": int((sparse > 0).sum()),
        }
        if valid_tokens:
            # The answer's first token is the one decided at this position.
            valid_ids = {pieces[0] for word in valid_tokens
                         if (pieces := tok(word, add_special_tokens=False)["input_ids"])}
            mask = torch.zeros_like(soft, dtype=torch.bool)
            mask[list(valid_ids)] = True
            result["valid_tokens"] = sorted(valid_tokens)
            result["mass_outside_valid"] = float(soft[~mask].sum())
            result["sparsemax_mass_outside_valid"] = float(sparse[~mask].sum())
        return result


def next_token_distribution(model_dir: str, prompt: str, valid_tokens: list[str] | None = None,
                            top_k: int = 10, chat: bool | None = None) -> dict:
    return NextTokenProbe(model_dir)(prompt, valid_tokens, top_k, chat)


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
        title = f"{name}\nH={res['entropy']:.2f} nats"
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
