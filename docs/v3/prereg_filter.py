"""Symlink a compare output's sample files into DEST, leaving out the temperatures that the amendment
(2704f9e, bracket_means) added: those listed under by_mean_of_seeds in runs/<method>-temperatures.json.
The pre-registered readings (docs/v3/*_as_preregistered.md) are the pre-registered code on what is left:

    python docs/v3/prereg_filter.py RUN_DIR FILTERED      # RUN_DIR: a compare output (runs/, samples/)
    git worktree add /tmp/prereg 47e3ebf
    PYTHONPATH=/tmp/prereg/src python -m ts2.cli compare analyze RUN_DIR/compare.yaml --samples FILTERED --output OUT
"""
import json, pathlib, re, sys
src, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dest.mkdir(parents=True, exist_ok=True)
extra = {}
for f in (src / "runs").glob("*-temperatures.json"):
    extra[f.name[:-len("-temperatures.json")]] = {float(t) for t in json.loads(f.read_text()).get("by_mean_of_seeds", [])}
kept = dropped = 0
for f in sorted((src / "samples").glob("*.jsonl")):
    m = re.match(r"(.+)-seed(\d+)-T([0-9.]+)\.jsonl$", f.name)
    if m and float(m.group(3)) in extra.get(m.group(1), set()):
        dropped += 1
        continue
    (dest / f.name).symlink_to(f.resolve())
    kept += 1
print(f"kept {kept}, left out {dropped}: {extra}")
