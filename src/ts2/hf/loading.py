"""Loading Transformers models where the user asked for them (device, dtype), and the token ids
that end an assistant turn.

A requested setting that cannot take effect is an error naming the flag: ``--device cuda`` on a
machine without CUDA does not silently fall back to the CPU.
"""

from __future__ import annotations

import torch

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N, mps"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """auto: the first CUDA device, else MPS, else the CPU; explicit choices must exist here."""
    name = str(name).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device must be one of {DEVICE_CHOICES}, got device={name!r}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={name!r} was requested but CUDA is not available on this machine "
                             "(torch.cuda.is_available() is False); use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device={name!r} was requested but this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device={name!r} was requested but MPS is not available on this machine")
    elif device.type != "cpu":
        raise ValueError(f"device must be one of {DEVICE_CHOICES}, got device={name!r}")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """auto: bfloat16 on GPUs that support it, float16 on other GPUs and MPS, float32 on the CPU."""
    name = str(name).strip().lower()
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device.type == "mps" else torch.float32
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of auto, {', '.join(DTYPES)}, got dtype={name!r}")
    if name == "bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"dtype={name!r} was requested but {torch.cuda.get_device_name(device)} does not "
                         "support bfloat16; use --dtype float16 or auto")
    return DTYPES[name]


def load_tokenizer(path):
    import transformers as tf

    from .weights import model_errors

    with model_errors(path, "the tokenizer of", weights=False):
        tokenizer = tf.AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path, device: str = "auto", dtype: str = "auto", kind: str = "causal_lm", revision: str | None = None):
    """(model in eval mode on the resolved device and dtype, tokenizer) from a model directory or
    Hub id (``ts2.hf.hub.resolve_model``; a ``Resolved`` is taken as it is)."""
    import transformers as tf

    from .hub import resolve_model

    path = resolve_model(path, revision).path
    target = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, target)
    auto = tf.AutoModelForCausalLM if kind == "causal_lm" else tf.AutoModelForSequenceClassification
    from .weights import model_errors

    with model_errors(path):
        model = auto.from_pretrained(path, dtype=torch_dtype)
    model = model.to(target).eval()
    return model, load_tokenizer(path)


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def end_of_turn_ids(tokenizer) -> list[int]:
    """Special token(s) the chat template puts right after an assistant message (ChatML
    ``<|im_end|>``, Llama-3 ``<|eot_id|>``, ...): the first special token of the rendered text
    that follows the message.  Empty without a chat template or if it cannot render one turn."""
    if getattr(tokenizer, "chat_template", None) is None:
        return []
    marker = "ts2-end-of-turn-probe"
    try:
        text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"},
                                              {"role": "assistant", "content": marker}], tokenize=False)
    except Exception:  # templates may refuse this conversation shape; then there is nothing to add
        return []
    if marker not in text:
        return []
    after = text[text.rindex(marker) + len(marker):]
    special = set(tokenizer.all_special_ids) | {
        i for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items() if getattr(t, "special", False)}
    for token in tokenizer(after, add_special_tokens=False)["input_ids"]:
        if token in special:
            return [int(token)]
    return []


def stop_token_ids(tokenizer, generation_config=None) -> list[int]:
    """Every id that ends a response: the generation config's eos id(s) (a model's
    ``generation_config``, or None), the tokenizer's eos and the chat template's end of turn."""
    ids = _as_list(getattr(generation_config, "eos_token_id", None))
    ids += _as_list(tokenizer.eos_token_id) + end_of_turn_ids(tokenizer)
    return sorted(set(ids))
