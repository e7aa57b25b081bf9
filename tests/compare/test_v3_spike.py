"""The spike-in control on the committed v3 `--full` samples (real SmolLM2 runs, five CE seeds).

Protocol v3 planted the spike into CE's own samples: every seed received exactly the planted gain,
so spikes of +0.002 to +0.02 came out reproduced with zero-width intervals.  Planted into runs
independent of the baseline's (here CE's seeds 2-3 against 0-1), the spike carries the comparison's
noise: a tiny one is not reproduced, and the interval has a real width."""

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from ts2.cli import main

V3 = Path(__file__).resolve().parents[2] / "docs" / "v3" / "full_run"


@pytest.fixture(scope="module")
def v3_samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("v3")
    with tarfile.open(V3 / "samples.tar.xz") as archive:
        archive.extractall(root, filter="data")
    keep = root / "kept"
    keep.mkdir()
    for path in (root / "samples").iterdir():
        if path.name.startswith(("ce-seed", "ts2-seed")):
            shutil.copy(path, keep / path.name)
    return root, keep


def _analyze(root: Path, samples: Path, delta: float) -> dict:
    raw = yaml.safe_load((V3 / "compare.yaml").read_text())
    raw["methods"] = {"ce": raw["methods"]["ce"], "ts2": raw["methods"]["ts2"]}
    raw["eval_prompts"] = str(V3 / "data" / "eval.jsonl")
    raw["verdict"]["delta"] = delta
    raw["checks"]["positive_control"] = None
    raw.pop("probe")
    config = root / f"delta{delta}.yaml"
    config.write_text(yaml.safe_dump(raw))
    out = root / f"out{delta}"
    assert main(["compare", "analyze", str(config), "--samples", str(samples), "--output", str(out),
                 "--text_metrics", "false"]) == 0
    return json.loads((out / "report.json").read_text())


def test_a_tiny_spike_is_not_reproduced_on_the_v3_samples(v3_samples):
    root, samples = v3_samples
    spike = _analyze(root, samples, 0.002)["checks"]["spike_in"]
    assert spike["available"] and spike["design"].startswith("ce's seeds [2, 3] planted")
    assert spike["outcome"] != "reproduced" and not spike["passed"]
    band = spike["endpoints"]["band"]
    assert band["ci95"][1] - band["ci95"][0] > 0.01  # a real width, not v3's [x, x]
    assert spike["detectable_at_80_percent_power"] > 0.01
