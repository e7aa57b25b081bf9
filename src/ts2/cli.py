"""`ts2` command line: argument parsing and I/O only."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import __version__

COMMANDS = {
    "train": "fine-tune a causal LM with a ts2 loss or a baseline (HF TrainingArguments flags, --config YAML)",
    "generate": "sample n responses per prompt (softmax or sparsemax decoding), resumable JSONL output",
    "eval": "diversity | code | answers | reward metrics of generations",
    "probe": "next-token distribution of one or more models at the answer position, with a bar chart",
    "demo": "the paper's claim in miniature: pretrain, fine-tune with each loss, sample, measure (CPU)",
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


def _generate(argv: list[str]) -> int:
    from .generate import SamplingSettings, generate

    p = argparse.ArgumentParser(prog="ts2 generate", description=COMMANDS["generate"])
    p.add_argument("--model", required=True, help="model directory")
    p.add_argument("--prompts", required=True,
                   help="JSONL (prompt/messages), HumanEval problems, text, or HF dataset dir")
    p.add_argument("--output", required=True, help="generations JSONL (appended; rerun to resume)")
    p.add_argument("--column", help="column of an HF dataset directory holding the prompts")
    p.add_argument("--chat_template", choices=["auto", "true", "false"], default="auto",
                   help="render prompts with the tokenizer's chat template (auto: when it has one; "
                        "not for HumanEval problems)")
    p.add_argument("--no_progress", action="store_true")
    defaults = SamplingSettings()
    for name, value in vars(defaults).items():
        if isinstance(value, bool):
            p.add_argument(f"--{name}", action="store_true", help=f"(default {value})")
        else:
            p.add_argument(f"--{name}", type=type(value), default=value, help=f"(default {value})")
    args = p.parse_args(argv)
    settings = SamplingSettings(**{k: getattr(args, k) for k in vars(defaults)})
    chat = {"auto": None, "true": True, "false": False}[args.chat_template]
    path = generate(args.model, args.prompts, args.output, settings, args.column, chat, not args.no_progress)
    print(f"generations in {path}")
    return 0


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _eval(argv: list[str]) -> int:
    from . import evaluate

    p = argparse.ArgumentParser(prog="ts2 eval", description=COMMANDS["eval"])
    sub = p.add_subparsers(dest="metric", required=True)
    div = sub.add_parser("diversity", help="distinct-n, self-BLEU, embedding diversity per prompt")
    div.add_argument("--input", required=True)
    div.add_argument("--embedding_model", default=evaluate.DEFAULT_EMBEDDING_MODEL,
                     help="sentence-transformers model path, or 'none' to skip embeddings")
    code = sub.add_parser("code", help="execution-based pass@k (HumanEval format)")
    code.add_argument("--samples", required=True, help='{"task_id","completion"} JSONL or a generations file')
    code.add_argument("--problems", help="problems JSONL(.gz); default: the 164 HumanEval problems")
    code.add_argument("--k", type=_ints, default=[1, 10, 100])
    code.add_argument("--results", help="per-sample results JSONL (default: SAMPLES_results.jsonl)")
    code.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds per program")
    code.add_argument("--workers", type=int, default=None, help="programs run at once (default: CPU count)")
    ans = sub.add_parser("answers", help="final-answer accuracy: first sample, majority vote, best-of-n")
    ans.add_argument("--input", required=True)
    ans.add_argument("--references", required=True, help='JSONL with "id" and the reference field')
    ans.add_argument("--reference_field", default="answer")
    ans.add_argument("--pattern", default="gsm8k", help="gsm8k, choice, last_number, or a regex with a group")
    ans.add_argument("--n", type=_ints, default=None, help="sample counts (default 1,2,4,...)")
    rew = sub.add_parser("reward", help="best-of-n / mean-of-n reward and win rate")
    rew.add_argument("--input", required=True)
    rew.add_argument("--reward_model", required=True, help="HF sequence-classification model directory")
    rew.add_argument("--baseline", help="generations file to compute the win rate against")
    rew.add_argument("--n", type=_ints, default=None)
    for parser in (div, code, ans, rew):
        parser.add_argument("--output", help="also write the JSON result here")
    args = p.parse_args(argv)
    if args.metric == "diversity":
        model = None if args.embedding_model.lower() == "none" else args.embedding_model
        report = evaluate.eval_diversity(args.input, model)
    elif args.metric == "code":
        from .sandbox import Limits

        limits = Limits(timeout_s=args.timeout, cpu_s=max(1, int(args.timeout)))
        results = args.results or str(args.samples).removesuffix(".jsonl") + "_results.jsonl"
        report = evaluate.eval_code(args.samples, args.problems, args.k, results, limits, args.workers)
    elif args.metric == "answers":
        report = evaluate.eval_answers(args.input, args.references, args.reference_field, args.pattern, args.n)
    else:
        report = evaluate.eval_reward(args.input, args.reward_model, args.baseline, args.n)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.output:
        evaluate.write_json_atomic(args.output, report)
    return 0


def _probe(argv: list[str]) -> int:
    from .evaluate import write_json_atomic
    from .probe import next_token_distribution, plot_probe

    p = argparse.ArgumentParser(prog="ts2 probe", description=COMMANDS["probe"])
    p.add_argument("--model", action="append", required=True, help="model directory (repeat for several)")
    p.add_argument("--name", action="append", help="panel title per model (default: directory name)")
    p.add_argument("--prompt", required=True)
    p.add_argument("--valid", help="comma-separated valid answers: reports softmax mass outside them")
    p.add_argument("--top_k", type=int, default=10)
    p.add_argument("--plot", default="probe.png", help="bar-chart PNG path")
    p.add_argument("--output", help="also write the JSON result here")
    args = p.parse_args(argv)
    valid = [v.strip() for v in args.valid.split(",")] if args.valid else None
    results = [next_token_distribution(m, args.prompt, valid, args.top_k) for m in args.model]
    plot_probe(results, args.plot, args.name)
    report = {"models": results, "plot": args.plot,
              "settings": {"prompt": args.prompt, "valid": valid, "top_k": args.top_k}}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.output:
        write_json_atomic(args.output, report)
    return 0


def _demo(argv: list[str]) -> int:
    from rich.console import Console
    from rich.table import Table

    from .demo.run import run_demo, table_rows

    p = argparse.ArgumentParser(prog="ts2 demo", description=COMMANDS["demo"])
    p.add_argument("--output", default="demo_output", help="directory for data, models, report (resumable)")
    p.add_argument("--quick", action="store_true", help="small budgets, one seed (for CI; under two minutes)")
    args = p.parse_args(argv)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(width=max(Console().width, 130))
    with Progress(TextColumn("ts2 demo"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("demo", total=None)
        report = run_demo(args.output, args.quick, log=console.log,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    for temperature in report["settings"]["budget"]["temperatures"]:
        table = Table(title=f"ts2 demo, temperature {temperature} (mean ± std over seeds)")
        for header in ("method", "accuracy", "coverage", "pass@1", "distinct-1", "self-BLEU", "invalid mass",
                       "entropy"):
            table.add_column(header)
        for method, cells in table_rows(report, temperature):
            table.add_row(method, *cells)
        console.print(table)
    console.print(f"report: {args.output}/report.md, {args.output}/report.json, {args.output}/probe.png")
    return 0


HANDLERS = {"train": _train, "generate": _generate, "eval": _eval, "probe": _probe, "demo": _demo}


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
        return HANDLERS[command](rest)
    except (DataError, ValueError, FileNotFoundError) as exc:
        print(f"ts2 {command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
