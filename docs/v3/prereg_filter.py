"""Symlink a compare output's sample files into DEST, leaving out the temperatures that the amendment
(2704f9e, bracket_means) added: those listed under by_mean_of_seeds in runs/<method>-temperatures.json.
The pre-registered readings (docs/v3/*_as_preregistered.md) are the pre-registered code on what is left:

    python docs/v3/prereg_filter.py RUN_DIR FILTERED      # RUN_DIR: a compare output (runs/, samples/)
    git worktree add /tmp/prereg 47e3ebf
    PYTHONPATH=/tmp/prereg/src python -m ts2.cli compare analyze RUN_DIR/compare.yaml --samples FILTERED --output OUT
"""

import json
import re
import sys
from pathlib import Path

SUFFIX = "-temperatures.json"
SAMPLE_FILE = re.compile(r"(.+)-seed(\d+)-T([0-9.]+)\.jsonl$")


def amendment_temperatures(run_dir: Path) -> dict[str, set[float]]:
    """method -> the temperatures that only the amendment sampled."""
    return {path.name[:-len(SUFFIX)]: {float(t) for t in json.loads(path.read_text()).get("by_mean_of_seeds", [])}
            for path in (run_dir / "runs").glob(f"*{SUFFIX}")}


def main(run_dir: Path, dest: Path) -> None:
    added = amendment_temperatures(run_dir)
    dest.mkdir(parents=True, exist_ok=True)
    kept = dropped = 0
    for path in sorted((run_dir / "samples").glob("*.jsonl")):
        match = SAMPLE_FILE.match(path.name)
        if match and float(match.group(3)) in added.get(match.group(1), set()):
            dropped += 1
            continue
        (dest / path.name).symlink_to(path.resolve())
        kept += 1
    print(f"kept {kept}, left out {dropped}: {added}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
