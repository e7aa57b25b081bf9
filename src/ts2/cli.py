"""`ts2` command line: argument parsing and I/O only."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

COMMANDS = {
    "train": "fine-tune a causal LM with a ts2 loss or a baseline (every HF TrainingArguments flag "
             "works; --config recipe.yaml)",
}


def _train(argv: list[str]) -> int:
    from trl import TrlParser

    from .training import TS2Arguments, TS2TrainingArguments, train

    parser = TrlParser((TS2Arguments, TS2TrainingArguments), prog="ts2 train", description=COMMANDS["train"])
    if "--output" in argv and "--output_dir" not in argv:  # TrainingArguments wants an output_dir too
        argv = [*argv, "--output_dir", argv[argv.index("--output") + 1]]
    script, args = parser.parse_args_and_config(argv)
    trainer = train(script, args)
    if trainer.is_world_process_zero():
        print(f"saved the fine-tuned model to {script.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="ts2", description="Fine-tuning with Sparsemax+ (TS²).")
    parser.add_argument("--version", action="version", version=f"ts2 {__version__}")
    parser.add_argument("command", choices=sorted(COMMANDS), help="; ".join(f"{k}: {v}" for k, v in COMMANDS.items()))
    if not argv or argv[0].startswith("-"):
        parser.parse_args(argv or ["--help"])
    command, rest = argv[0], argv[1:]
    parser.parse_args([command])  # rejects unknown commands with the usual message
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from .data import DataError

    try:
        return {"train": _train}[command](rest)
    except (DataError, ValueError, FileNotFoundError) as exc:
        print(f"ts2 {command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
