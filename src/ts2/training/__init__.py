"""``ts2 train``: records -> tokenized examples with response-only labels (``data``) -> a model
fine-tuned with a ts2 loss by the HF Trainer and saved with ``ts2_config.json`` (``run``)."""

from .run import CONFIG_NAME, TS2Arguments, TS2TrainingArguments, prepare, split_settings, train

__all__ = ["CONFIG_NAME", "TS2Arguments", "TS2TrainingArguments", "prepare", "split_settings", "train"]
