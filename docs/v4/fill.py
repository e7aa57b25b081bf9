"""Write choose.py's outcome into the two v4 configurations (the placeholders in capitals).

    python docs/v4/fill.py CHOOSE_JSON --delta D --margin M

The demo's band is the full band with its bottom raised to DEMO_BOTTOM (0.70), which CE's grid
T 1.0-1.6 brackets in every pilot seed; the full grid is ``--grid`` (amendment 3), else T 0.6 and
rule 4's temperatures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ts2.demo import real_world

CONFIGS = Path(__file__).resolve().parents[2] / "src" / "ts2" / "demo" / "configs"
DEMO_BOTTOM = 0.70


def levels(band) -> str:
    lo, hi = band
    return f"[{hi:g}, {round((lo + hi) / 2, 3):g}, {lo:g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("choose", type=Path)
    parser.add_argument("--delta", type=float, required=True)
    parser.add_argument("--margin", type=float, required=True)
    parser.add_argument("--grid", help="the full grid, comma-separated (amendment 3 of pilots.md); default: T 0.6 "
                                       "and rule 4's temperatures")
    args = parser.parse_args()
    chosen = json.loads(args.choose.read_text())
    control = chosen["control"]
    band = chosen["candidates"][control]["band"]
    grid = sorted({float(t) for t in args.grid.split(",")} if args.grid else {0.6, *chosen["grid"]})
    base_t = 1.0 if 1.0 in grid else min(t for t in grid if t > 0.6)
    q = {"ce_mix25": 0.25, "ce_mix50": 0.5}[control]
    full = (CONFIGS / "smollm2_v4_full.yaml").read_text()
    for key, value in (("CONTROL_DATA", real_world.mixture_name(q)), ("CONTROL", control), ("GRID", str(grid)),
                       ("BASE_T", f"{base_t:g}"), ("LEVELS", levels(band)), ("BAND", f"[{band[0]:g}, {band[1]:g}]"),
                       ("DELTA", f"{args.delta:g}"), ("MARGIN", f"{args.margin:g}")):
        full = full.replace(key, value)
    demo_band = [max(band[0], DEMO_BOTTOM), band[1]]
    demo = (CONFIGS / "smollm2_v4.yaml").read_text()
    for key, value in (("LEVELS", levels(demo_band)), ("BAND", f"[{demo_band[0]:g}, {demo_band[1]:g}]"),
                       ("DELTA", f"{args.delta:g}"), ("MARGIN", f"{args.margin:g}")):
        demo = demo.replace(key, value)
    (CONFIGS / "smollm2_v4_full.yaml").write_text(full)
    (CONFIGS / "smollm2_v4.yaml").write_text(demo)
    print(json.dumps({"control": control, "band": band, "grid": grid, "base_t": base_t, "demo_band": demo_band}))


if __name__ == "__main__":
    main()
