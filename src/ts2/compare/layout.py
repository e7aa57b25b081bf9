"""Every path of a `ts2 compare` output folder, named once (``Layout``).

    config.json                      the resolved configuration (checked on resume)
    inputs.json                      digests of the SFT files and the evaluation prompts, and a Hub base
                                     model's commit (base_model_revision; checked on resume)
    models/<method>-seed<s>/         fine-tuned models (ts2 train output)
    samples/<method>-seed<s>-T<t>.jsonl   generations (ts2 generate format)
    positions/<method>-seed<s>.json  entropy / invalid mass at the answer position, per open prompt
    probe/<method>.json, probe.png   the probe panels
    runs/<method>-seed<s>.json       wall times of training and sampling (of the run it was reused from, if so)
    runs/<method>-temperatures.json  temperatures the grid was extended by (sampling.max_temperature,
                                     min_temperature)
    logs/<method>-seed<s>.log        what training printed
    offlist_audit.jsonl              every distinct off-list answer, pooled and blind (``audit.py``)
    report.json, report.md, frontier.png, metrics.png
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

AUDIT_FILE = "offlist_audit.jsonl"
SAMPLE_FILE = re.compile(r"^(?P<method>.+)-seed(?P<seed>-?\d+)-T(?P<t>\d+(?:\.\d+)?)\.jsonl$")


def run_name(method: str, seed: int) -> str:
    """A run: one method trained (or the base model) at one seed."""
    return f"{method}-seed{seed}"


def sample_name(method: str, seed: int, temperature) -> str:
    """The sample file of a run at one temperature (``SAMPLE_FILE`` reads it back)."""
    return f"{run_name(method, seed)}-T{temperature}.jsonl"


@dataclass(frozen=True)
class Layout:
    """The paths of the output folder ``root``; ``name`` arguments are ``run_name``s."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs.json"

    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    @property
    def positions_dir(self) -> Path:
        return self.root / "positions"

    @property
    def audit(self) -> Path:
        return self.root / AUDIT_FILE

    def samples(self, name: str, temperature) -> Path:
        return self.samples_dir / f"{name}-T{temperature}.jsonl"

    def run_samples(self, name: str) -> list[Path]:
        """Every sample file of run ``name``, whatever its temperature."""
        return sorted(self.samples_dir.glob(f"{name}-T*.jsonl"))

    def positions(self, name: str) -> Path:
        return self.positions_dir / f"{name}.json"

    def model(self, name: str) -> Path:
        return self.root / "models" / name

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def run_record(self, name: str) -> Path:
        return self.root / "runs" / f"{name}.json"

    def grid_record(self, method: str) -> Path:
        return self.root / "runs" / f"{method}-temperatures.json"

    def probe(self, method: str) -> Path:
        return self.root / "probe" / f"{method}.json"

    def file(self, name: str) -> Path:
        """A report file at the top: report.json, report.md, frontier.png, metrics.png, probe.png."""
        return self.root / name
