"""Start a comparison from another one's finished runs (``ts2 compare --reuse DIR``).

A larger comparison often contains a smaller one: ``ts2 demo --full`` has every run of ``make demo``
(the same methods at the same seeds) and more.  A run is a set of stage files (``layout.py``'s
layout), so the runs the two share can be taken over instead of made again, when everything that
makes a run is the same in both configurations:

    base model (and its Hub commit), SFT files and evaluation prompts (their digests in inputs.json), training,
    sampling, prompting, base_prompting, runtime, and the method's own settings.

Every other key (more seeds, more methods, another verdict, other checks) may differ.  Model
directories are hard-linked where the filesystem allows (else copied); sample, position, probe and
record files are copied.  Nothing already in the output directory is overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..formats import DataError
from .layout import Layout, run_name

SHARED_KEYS = ("base_model", "base_model_revision", "training", "sampling", "prompting", "base_prompting", "runtime")


def _link_tree(source: Path, target: Path) -> None:
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:  # another filesystem, or links not allowed: a plain copy
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _source(source: Path) -> tuple[dict, dict]:
    """(config.json, inputs.json) of another comparison's output directory."""
    files = [Layout(source).config, Layout(source).inputs]
    if not all(f.is_file() for f in files):
        raise DataError(f"--reuse {source}: not a ts2 compare output directory (no config.json / inputs.json)")
    config, inputs = (json.loads(f.read_text()) for f in files)
    return config, inputs


def shared_runs(config: dict, inputs: dict, source: Path) -> list[tuple[str, int]]:
    """(method, seed) pairs that ``source`` holds and this configuration would make the same way;
    an error when the two differ in something every run depends on."""
    theirs, their_inputs = _source(source)
    mine = json.loads(json.dumps(config))
    for key in SHARED_KEYS:
        if mine.get(key) != theirs.get(key):
            raise DataError(f"--reuse {source}: its {key} differs from this configuration's, so its runs are not "
                            f"this comparison's ({theirs.get(key)!r} there, {mine.get(key)!r} here)")
    for key in sorted(set(inputs) & set(their_inputs)):
        if inputs[key] != their_inputs[key]:
            raise DataError(f"--reuse {source}: {key} differs (digests {their_inputs[key]} there, {inputs[key]} here)")
    methods = ["base"] + [m for m, spec in mine["methods"].items() if theirs["methods"].get(m) == spec]
    seeds = [s for s in mine["seeds"] if s in theirs["seeds"]]
    return [(m, s) for m in methods for s in seeds]


def _probe_settings(config: dict) -> dict | None:
    probe = config.get("probe")
    return None if probe is None else {k: v for k, v in probe.items() if k != "methods"}


def reuse_runs(config: dict, runs: list[tuple[str, int]], source, output, log=print) -> list[str]:
    """Copy the stage files of ``runs`` (``shared_runs``'s pairs) from ``source`` into ``output``;
    returns the run names taken."""
    source, output = Path(source), Path(output)
    theirs, _ = _source(source)
    there, here = Layout(source), Layout(output)
    taken = []
    same_first_seed = theirs["seeds"][0] == config["seeds"][0]
    for method, seed in runs:
        name = run_name(method, seed)
        files = [*there.run_samples(name), there.positions(name), there.run_record(name), there.log(name)]
        if same_first_seed:  # the grid's extension is decided by the first seed
            files.append(there.grid_record(method))
        if _probe_settings(config) == _probe_settings(theirs) and seed == config["seeds"][0]:
            files.append(there.probe(method))
        copied = False
        for path in files:
            target = output / path.relative_to(source)
            if path.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                copied = True
        model = there.model(name)
        if model.is_dir() and not here.model(name).exists():
            here.model(name).parent.mkdir(parents=True, exist_ok=True)
            _link_tree(model, here.model(name))
            copied = True
        if copied:
            taken.append(name)
    if taken:
        log(f"reused {len(taken)} run(s) from {source}: {', '.join(taken)}")
    return taken
