"""`ts2 demo --quick` end to end: every method and metric in the report; the base build is
bit-deterministic on this machine."""

import hashlib
import json
import random

from ts2.cli import main
from ts2.demo import world
from ts2.demo.run import Budget, Paths, build_base

METHODS = {"base", "ce", "gem", "sparsemax", "ts2", "neftune"}
METRICS = {"accuracy", "accuracy_open", "coverage", "pass@1", "pass@4", "distinct_1", "distinct_2", "self_bleu",
           "invalid_mass", "entropy"}


def test_quick_demo_writes_a_complete_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["methods"]) == METHODS
    for method, by_t in report["methods"].items():
        cells = by_t["T=1.0"]
        assert METRICS <= set(cells), (method, METRICS - set(cells))
        for key in ("accuracy", "coverage", "pass@1", "distinct_2", "invalid_mass"):
            assert 0 <= cells[key]["mean"] <= 1, (method, key)
        assert 0 <= cells["self_bleu"]["mean"] <= 100
        assert cells["accuracy"]["seeds"] == [0]
    runs = report["runs"]
    assert {(r["method"], r["seed"], r["temperature"]) for r in runs} == {(m, 0, 1.0) for m in METHODS}
    assert report["settings"]["budget"]["seeds"] == [0] and report["settings"]["quick"] is True
    assert len(report["probe"]["results"]) == 5 and (out / "probe.png").stat().st_size > 1000
    text = (out / "report.md").read_text()
    assert all(f"| {m} |" in text for m in METHODS) and "probe.png" in text
    assert "ts2 demo, temperature 1.0" in capsys.readouterr().out
    # Resume: everything exists, so a second run only re-reads and re-scores.
    before = {p: p.stat().st_mtime for p in (out / "models").rglob("model.safetensors")}
    assert main(["demo", "--quick", "--output", str(out)]) == 0
    assert {p: p.stat().st_mtime for p in (out / "models").rglob("model.safetensors")} == before
    assert json.loads((out / "report.json").read_text())["methods"] == report["methods"]


def test_base_build_is_bit_deterministic(tmp_path):
    budget = Budget.quick()
    families = world.task_families(random.Random(0))
    hashes = []
    for name in ("a", "b"):
        base = build_base(Paths(tmp_path / name), families, budget, log=lambda *_: None)
        hashes.append(hashlib.sha256((base / "model.safetensors").read_bytes()).hexdigest())
    assert hashes[0] == hashes[1]
