"""The verdict rule of `ts2 compare` (protocol v3), applied to the readings and the checks.

On ``verdict.split``, metric ``verdict.metric``, (method - baseline) at matched
``verdict.accuracy``; the primary endpoint is the band mean (``verdict.primary: band``) or every
level (``levels``).  For one endpoint, with its 95% interval [lo, hi]:

    accuracy_cost   the method's best accuracy is below the target by more than
                    ``accuracy_tolerance``: that endpoint is not reproduced (an accuracy cost);
    grid_short      the method is still more accurate than the target at its highest temperature:
                    that endpoint cannot be read (extend the temperatures): inconclusive;
    reproduced      lo > 0;
    not_reproduced  hi < delta (an effect of delta or more is excluded);
    inconclusive    otherwise.

Band: the band's outcome.  Levels: reproduced if every level is, not reproduced if any level is,
else inconclusive.

Protocol v4 (``verdict.ceiling_margin`` m given): no point estimate decides an endpoint.  A reading
whose method cannot reach the target (``accuracy_cost``) is inconclusive, and accuracy is its own
endpoint, the ceiling: (the method's best fitted accuracy - the baseline's) with its interval [lo, hi]
is ``non_inferior`` if lo > -m, ``inferior`` if hi < -m, else inconclusive.  The claim (more
coverage at matched accuracy without losing accuracy) is reproduced if the coverage endpoint is
reproduced and the ceiling non-inferior, not reproduced if the coverage endpoint is not reproduced
or the ceiling inferior, else inconclusive.  The checks' readings (spike-in, positive control) use
the coverage endpoint alone.  A failed check makes the verdict inconclusive (``failed_checks`` says which);
a check that could not be computed from what was given (``available: false``) is listed in
``skipped_checks`` and fails nothing.  With fewer seeds than ``min_seeds`` the verdict is labelled
preliminary.  ``outcome_of(report)`` recomputes the outcome from report.json's own numbers.
"""

from __future__ import annotations


def endpoint_outcome(block: dict, metric: str, delta: float, v4: bool = False) -> str:
    """The outcome of one level or band reading (see the module docstring)."""
    status = block.get("status")
    if status == "accuracy_cost":
        return "inconclusive" if v4 else "not_reproduced"
    if status in ("grid_short", "baseline_unreadable", None):
        return "inconclusive"
    reading = block["metrics"].get(metric) or {}  # None: the metric is undefined for a method
    lo, hi = reading.get("ci95") or (None, None)
    if lo is None or hi is None:
        return "inconclusive"
    return "reproduced" if lo > 0 else "not_reproduced" if hi < delta else "inconclusive"


def primary_endpoints(reading: dict, primary: str) -> dict:
    """name -> reading block of the primary endpoint(s)."""
    if primary == "band":
        return {"band": reading["band"]}
    return dict(reading["levels"])


def combine(outcomes) -> str:
    outcomes = list(outcomes)
    if outcomes and all(o == "reproduced" for o in outcomes):
        return "reproduced"
    return "not_reproduced" if "not_reproduced" in outcomes else "inconclusive"


def primary_outcome(reading: dict, v) -> tuple[str, dict]:
    """(outcome, endpoint -> outcome) of one method's coverage readings on the verdict split."""
    v4 = v.ceiling_margin is not None
    parts = {name: endpoint_outcome(block, v.metric, v.delta, v4)
             for name, block in primary_endpoints(reading, v.primary).items()}
    return combine(parts.values()), parts


CEILING_AS_OUTCOME = {"non_inferior": "reproduced", "inferior": "not_reproduced", "inconclusive": "inconclusive"}


def ceiling_outcome(reading: dict, margin: float) -> str:
    """non_inferior / inferior / inconclusive: the ceiling difference's interval against -margin."""
    difference = (reading.get("ceiling") or {}).get("difference")
    if not difference:
        return "inconclusive"
    lo, hi = difference["ci95"]
    return "non_inferior" if lo > -margin else "inferior" if hi < -margin else "inconclusive"


def claim_outcome(reading: dict, v) -> tuple[str, dict]:
    """(outcome, endpoint -> outcome): the coverage endpoint(s), and with ``ceiling_margin`` the
    ceiling beside them (reported as non_inferior / inferior / inconclusive)."""
    measured, parts = primary_outcome(reading, v)
    if v.ceiling_margin is None:
        return measured, parts
    ceiling = ceiling_outcome(reading, v.ceiling_margin)
    return combine([*parts.values(), CEILING_AS_OUTCOME[ceiling]]), {**parts, "ceiling": ceiling}


def rule_text(cfg) -> str:
    v = cfg.verdict
    spec = v.levels
    levels = (", ".join(f"{a:g}" for a in spec["accuracy"]) + f" {v.accuracy}" if "accuracy" in spec else
              "the " + v.accuracy + f" {cfg.baseline} has at " + ", ".join(f"T {t:g}" for t in spec["temperature"]))
    band = f"the band {v.accuracy} {v.band[0]:g}-{v.band[1]:g}" if v.band else None
    primary = (f"primary endpoint: the mean over {band} of the difference" if v.primary == "band"
               else f"primary endpoint: the difference at every level ({levels})")
    head = (f"On {v.split}, compare {v.method} with {cfg.baseline} in {v.metric} at matched {v.accuracy} "
            f"(each method read where its own non-increasing accuracy curve over T meets the target; levels: "
            f"{levels}{'; ' + band if band else ''}); {primary}; 95% t interval over seeds crossed with categories "
            f"(Satterthwaite df). ")
    if v.ceiling_margin is not None:
        m = v.ceiling_margin
        return head + (f"Coverage: reproduced if lower bound > 0, not_reproduced if upper bound < delta = "
                       f"{v.delta}, else (or where the method does not reach the band) inconclusive. Ceiling (best "
                       f"{v.accuracy} over T, method - {cfg.baseline}): non_inferior if lower bound > -{m:g}, "
                       f"inferior if upper bound < -{m:g}, else inconclusive. The claim is reproduced if coverage is "
                       f"reproduced and the ceiling non_inferior, not_reproduced if coverage is not_reproduced or "
                       f"the ceiling inferior, else inconclusive; inconclusive if a check failed.")
    return head + (f"reproduced: lower bound > 0; not_reproduced: upper bound < delta = {v.delta}, or "
                   f"an accuracy cost (the method's best accuracy below the target by more than "
                   f"{v.accuracy_tolerance}); inconclusive: otherwise, where the method's temperatures do not reach "
                   f"the target, or if a check failed.")


def verdict(cfg, readings: dict, checks: dict) -> dict:
    v = cfg.verdict
    reading = readings.get(v.method, {}).get(v.split)
    failed = sorted(name for name, check in checks.items() if check.get("available", True) and not check["passed"])
    skipped = sorted(name for name, check in checks.items() if not check.get("available", True))
    if not reading:
        return {"outcome": "inconclusive", "outcome_before_checks": "inconclusive", "rule": rule_text(cfg),
                "failed_checks": failed, "skipped_checks": skipped, "endpoints": {},
                "reason": f"no open prompts of {v.method} in split {v.split!r}",
                "preliminary": len(cfg.seeds) < v.min_seeds, "reproduced": False}
    measured, parts = claim_outcome(reading, v)
    return {"outcome": "inconclusive" if failed else measured, "outcome_before_checks": measured,
            "rule": rule_text(cfg), "primary": v.primary, "endpoints": parts, "failed_checks": failed,
            "skipped_checks": skipped, "preliminary": len(cfg.seeds) < v.min_seeds,
            "reproduced": measured == "reproduced" and not failed}


def outcome_of(report: dict) -> str:
    """The verdict's outcome recomputed from report.json alone (its readings, checks and settings)."""
    from .sections import Verdict

    v = Verdict.of_report(report["settings"]["verdict"])
    reading = report["readings"].get(v.method, {}).get(v.split)
    if not reading:
        return "inconclusive"
    measured, _ = claim_outcome(reading, v)
    failed = [n for n, c in report["checks"].items() if c.get("available", True) and not c["passed"]]
    return "inconclusive" if failed else measured
