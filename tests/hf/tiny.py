"""Tiny models, tokenizers and chat data built locally (nothing is downloaded)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import transformers as tf
from tokenizers import Tokenizer, models, pre_tokenizers

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
SPECIALS = ["<pad>", "<unk>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>", "<|tool|>"]
WORDS = ["add", "name", "a", "prime", "number", "below", "is", "the", "answer", "you", "are", "helpful",
         "please", "and", "."] + [str(i) for i in range(40)]


def make_tokenizer(chat_template: str | None = CHAT_TEMPLATE) -> tf.PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = tf.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                     eos_token="<|end|>", additional_special_tokens=SPECIALS[3:])
    tok.chat_template = chat_template
    return tok


def model_config(arch: str, vocab_size: int):
    common = dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                  pad_token_id=0, eos_token_id=2, bos_token_id=None)
    if arch == "llama":
        return tf.LlamaConfig(**common)
    if arch == "qwen2":
        return tf.Qwen2Config(**common)
    if arch == "mistral":
        return tf.MistralConfig(**common)
    if arch == "gpt2":
        return tf.GPT2Config(vocab_size=vocab_size, n_embd=64, n_layer=2, n_head=4, n_positions=128,
                             pad_token_id=0, eos_token_id=2, bos_token_id=2, tie_word_embeddings=True)
    raise KeyError(arch)


def make_model_dir(path: Path, arch: str = "llama", seed: int = 0,
                   chat_template: str | None = CHAT_TEMPLATE) -> Path:
    tf.set_seed(seed)
    tok = make_tokenizer(chat_template)
    model = tf.AutoModelForCausalLM.from_config(model_config(arch, len(tok)))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def addition_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        a, b = rng.randrange(0, 20), rng.randrange(0, 19)
        msgs = [{"role": "user", "content": f"add {a} and {b}"},
                {"role": "assistant", "content": f"the answer is {a + b}"}]
        if i % 3 == 0:
            msgs.insert(0, {"role": "system", "content": "you are helpful ."})
        records.append({"messages": msgs} if i % 4 else
                       {"prompt": f"add {a} and {b}", "completion": f"the answer is {a + b}"})
    return records


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
