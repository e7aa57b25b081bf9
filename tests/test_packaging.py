"""pyproject's lower bounds are the versions the project is tested with: each ``name>=X`` equals
the oldest version of ``name`` pinned in the constraints files (every ``make`` install goes through
them), to X's precision."""

import re
from pathlib import Path

import tomllib
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# Declared but installed by no constraints file here: vLLM's GPU build (this machine has no GPU)
UNTESTED = {"vllm"}


def _pins() -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {}
    for path in ROOT.glob("constraints*.txt"):
        for line in path.read_text().splitlines():
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
            if match:
                name = re.sub(r"[-_.]+", "-", match[1]).lower()
                pins.setdefault(name, []).append(Version(match[2].split("+")[0]))
    return pins


def _bounds() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"].values()
    requirements = [*project["dependencies"], *(r for extra in extras for r in extra)]
    bounds = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([0-9.]+)", requirement)
        if match:
            bounds[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return bounds


def test_lower_bounds_are_the_oldest_tested_versions():
    pins, wrong = _pins(), []
    for name, bound in _bounds().items():
        if name in UNTESTED:
            continue
        assert name in pins, f"{name}>={bound} is pinned in no constraints file"
        oldest = min(pins[name])
        digits = len(bound.split("."))
        if Version(".".join(map(str, oldest.release[:digits]))) != Version(bound):
            wrong.append(f"{name}>={bound}, oldest tested {oldest}")
    assert not wrong, "\n".join(wrong)
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.11"
