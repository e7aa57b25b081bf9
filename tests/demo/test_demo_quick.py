"""`ts2 demo --quick` (the toy world through ts2 compare) end to end; the toy base build is
bit-deterministic on this machine."""

import hashlib
import json
import random

from ts2.cli import main
from ts2.demo import toy_world
from ts2.demo.run import ToyBudget, build_toy_base

METHODS = {"base", "ce", "gem", "sparsemax", "ts2", "neftune"}
METRICS = {"accuracy", "coverage", "pass@1", "distinct_1", "self_bleu", "invalid_mass", "entropy"}


def test_quick_demo_writes_a_complete_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["methods"]) == METHODS and set(report["vs_ce"]) == METHODS - {"ce"}
    for method, by_split in report["methods"].items():
        cells = by_split["sft_categories"]
        assert METRICS <= set(cells), (method, METRICS - set(cells))
        for key in ("accuracy", "coverage", "pass@1", "invalid_mass"):
            assert 0 <= cells[key]["ci95"][0] <= cells[key]["mean"] <= cells[key]["ci95"][1] <= 1, (method, key)
        assert 0 <= cells["self_bleu"]["mean"] <= 100
    assert report["settings"]["seeds"] == [0] and report["name"] == "toy-world-quick"
    assert isinstance(report["verdict"]["reproduced"], bool)
    assert set(report["probe"]) == {"base", "ce", "gem", "sparsemax", "ts2"}
    assert (out / "probe.png").stat().st_size > 1000
    text = (out / "report.md").read_text()
    assert all(f"| {m} |" in text for m in METHODS) and "probe.png" in text and "Verdict" in text
    assert "toy-world-quick: T = 1.0, sft_categories" in capsys.readouterr().out
    # Resume: everything exists, so a second run only re-reads and re-scores.
    before = {p: p.stat().st_mtime for p in (out / "models").rglob("model.safetensors")}
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    assert {p: p.stat().st_mtime for p in (out / "models").rglob("model.safetensors")} == before
    assert json.loads((out / "report.json").read_text())["methods"] == report["methods"]


def test_toy_base_build_is_bit_deterministic(tmp_path):
    budget = ToyBudget.quick()
    families = toy_world.task_families(random.Random(0))
    hashes = []
    for name in ("a", "b"):
        base = build_toy_base(tmp_path / name, families, budget, log=lambda *_: None)
        hashes.append(hashlib.sha256((base / "model.safetensors").read_bytes()).hexdigest())
    assert hashes[0] == hashes[1]


def test_quick_is_only_for_the_toy_world(tmp_path, capsys):
    assert main(["demo", "--world", "real", "--quick", "--output", str(tmp_path / "x")]) == 2
    assert "quick" in capsys.readouterr().err
