"""The typed sections of a `ts2 compare` configuration: frozen dataclasses that check themselves.

``Section.of(mapping)`` reads one section of the YAML (unknown keys are an error naming the known
ones); each section's ``__post_init__`` checks what it can alone, with the messages of the YAML's
keys ("config: sampling.extend_step must be ...").  What needs several sections (a verdict method
among the methods, a check temperature the base is sampled at) is ``CompareConfig.check``'s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..formats import DataError
from ..generate import DEFAULT_BATCH_TOKENS
from ..generate import Runtime as SamplingRuntime

AUDIT_RULE = "a real answer to the prompt (a member of the category), spelling variants included"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Section:
    """A configuration section; ``NAME`` is its key in the YAML."""

    NAME = ""

    @classmethod
    def of(cls, given, **context):
        """The section of the mapping ``given`` (None: every default)."""
        if isinstance(given, cls):
            return given
        if given is None:
            return cls(**context)
        if not isinstance(given, dict):
            raise DataError(f"config: {cls.NAME} must be a mapping, got {given!r}")
        known = [f.name for f in fields(cls) if not f.name.startswith("_")]
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise DataError(f"config: unknown key(s) in {cls.NAME}: {', '.join(unknown)} (known: {', '.join(known)})")
        return cls(**given, **context)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass(frozen=True)
class Sampling(Section):
    """How every run is sampled; temperatures beyond the grid: ``max_temperature`` /
    ``min_temperature`` in ``extend_step`` steps (``grid.py``)."""

    NAME = "sampling"
    n: int = 16
    temperatures: list = field(default_factory=lambda: [1.0])
    base_temperatures: list | None = None
    top_k: int = 0
    top_p: float = 0.9
    max_new_tokens: int = 64
    stop: list = field(default_factory=list)
    max_temperature: float | None = None
    min_temperature: float | None = None
    extend_step: float = 0.1

    def __post_init__(self):
        from ..generate import SamplingSettings

        temps = self.temperatures
        if not temps or not all(_number(t) and t > 0 for t in temps):
            raise DataError(f"config: sampling.temperatures must be positive numbers, got {temps!r}")
        top, bottom, step = self.max_temperature, self.min_temperature, self.extend_step
        if top is not None and not (_number(top) and top > max(temps)):
            raise DataError(f"config: sampling.max_temperature={top!r} must be above the highest temperature "
                            f"{max(temps)}")
        if bottom is not None and not (_number(bottom) and 0 < bottom < min(temps)):
            raise DataError(f"config: sampling.min_temperature={bottom!r} must be a positive number below the lowest "
                            f"temperature {min(temps)}")
        if not (_number(step) and step > 0):
            raise DataError(f"config: sampling.extend_step must be a positive number, got {step!r}")
        base = self.base_temperatures
        if base is not None and (not base or set(base) - set(temps)):
            raise DataError(f"config: sampling.base_temperatures={base!r} must be a non-empty subset of "
                            f"sampling.temperatures {temps}")
        for temperature in temps:
            SamplingSettings(n=self.n, temperature=temperature, top_k=self.top_k, top_p=self.top_p,
                             max_new_tokens=self.max_new_tokens, stop=list(self.stop)).check()


@dataclass(frozen=True)
class Prompting(Section):
    """How prompts are given: ``chat`` (the chat template; None: when the tokenizer has one),
    ``format`` around the prompt, extra ``stop`` strings."""

    NAME = "prompting"
    chat: bool | None = None
    format: str = "{prompt}"
    stop: list = field(default_factory=list)


@dataclass(frozen=True)
class BasePrompting(Prompting):
    NAME = "base_prompting"


@dataclass(frozen=True)
class Probe(Section):
    """The next-token probe panel (``ts2.eval.probe``), on the first seed."""

    NAME = "probe"
    prompt: str | None = None
    position: str = "next"
    match: str = r"\d"
    runs: int = 50
    methods: list | None = None
    valid: list | None = None
    top_k: int = 10

    def __post_init__(self):
        if not self.prompt:
            raise DataError("config: probe.prompt is required when probe is given")


@dataclass(frozen=True)
class Bootstrap(Section):
    """``seed``: the spike-in's draw and the audit file's shuffle (``resamples``: read by protocol v2
    configurations, unused since v3)."""

    NAME = "bootstrap"
    resamples: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class Verdict(Section):
    """The comparison the verdict reads and its rule (``verdict.py``).  ``levels``: {"accuracy":
    [...]} or {"temperature": [...]} (a plain list: temperatures; none: the grid's temperature
    nearest 1); ``primary``: "band" when a band is given, else "levels"."""

    NAME = "verdict"
    method: str = "ts2"
    split: str = "heldout_categories"
    metric: str = "lenient_coverage"
    accuracy: str = "lenient_accuracy"
    levels: dict | list | None = None
    band: list | None = None
    primary: str | None = None
    delta: float = 0.02
    accuracy_tolerance: float = 0.02
    min_seeds: int = 3
    ceiling_margin: float | None = None
    _temperatures: tuple = ()  # the sampling grid the levels refer to (not a YAML key)

    def __post_init__(self):
        from ..metrics.answer_sets import OPEN_METRICS

        levels = _levels(self.levels, list(self._temperatures))
        object.__setattr__(self, "levels", levels)
        if self.primary is None:
            object.__setattr__(self, "primary", "band" if self.band is not None else "levels")
        for key in ("metric", "accuracy"):
            if getattr(self, key) not in OPEN_METRICS:
                raise DataError(f"config: verdict.{key}={getattr(self, key)!r} is not a metric of open prompts "
                                f"({', '.join(OPEN_METRICS)})")
        if "temperature" in levels:
            if self._temperatures and [t for t in levels["temperature"] if t not in self._temperatures]:
                raise DataError(f"config: verdict.levels.temperature={levels['temperature']!r} must be temperatures "
                                f"of sampling.temperatures {list(self._temperatures)}")
        elif not all(_number(a) and 0 < a < 1 for a in levels["accuracy"]):
            raise DataError(f"config: verdict.levels.accuracy={levels['accuracy']!r} must be accuracies in (0, 1)")
        band = self.band
        if band is not None and not (isinstance(band, list) and len(band) == 2
                                     and all(_number(a) for a in band) and 0 < band[0] < band[1] < 1):
            raise DataError(f"config: verdict.band={band!r} must be [low, high] accuracies with 0 < low < high < 1")
        if self.primary not in ("band", "levels") or (self.primary == "band" and band is None):
            raise DataError(f"config: verdict.primary={self.primary!r} must be 'levels', or 'band' with verdict.band "
                            "given")
        for key in ("delta", "accuracy_tolerance"):
            if not _number(getattr(self, key)) or getattr(self, key) < 0:
                raise DataError(f"config: verdict.{key} must be a number >= 0, got {getattr(self, key)!r}")
        margin = self.ceiling_margin
        if margin is not None and not (_number(margin) and 0 < margin < 1):
            raise DataError(f"config: verdict.ceiling_margin must be a number in (0, 1) or null, got {margin!r}")

    @classmethod
    def of_report(cls, recorded: dict) -> Verdict:
        """The verdict section as report.json's settings record it (levels already normalized)."""
        return cls(**{k: v for k, v in recorded.items() if k in {f.name for f in fields(cls)}})

    def to_dict(self) -> dict:
        record = super().to_dict()
        if record["ceiling_margin"] is None:  # recorded from protocol v4 on: older outputs stay resumable
            del record["ceiling_margin"]
        return record


def nearest_one(temperatures) -> float:
    """The temperature nearest 1.0 (plain softmax): the default level, check and report temperature."""
    return min(temperatures, key=lambda t: abs(t - 1.0))


def _levels(levels, temps) -> dict:
    """verdict.levels as {"accuracy": [...]} or {"temperature": [...]}; a list is temperatures (v2);
    none given: the baseline's accuracy at the grid's temperature nearest 1."""
    if levels is None:
        return {"temperature": [nearest_one(temps)] if temps else []}
    if isinstance(levels, list):
        levels = {"temperature": levels}
    if not isinstance(levels, dict) or len(levels) != 1 or not set(levels) <= {"accuracy", "temperature"} \
            or not isinstance(next(iter(levels.values())), list) or not next(iter(levels.values())):
        raise DataError(f"config: verdict.levels={levels!r} must be {{accuracy: [...]}} or {{temperature: [...]}}, "
                        "each a non-empty list")
    return dict(levels)


@dataclass(frozen=True)
class Checks(Section):
    """The checks of the verdict's comparison (``checks.py``)."""

    NAME = "checks"
    split: str | None = None
    temperature: float | None = None
    sft_share_rise: float = 0.3
    simpson_drop: float = 0.1
    entropy_drop: float = 0.5
    format_min_accuracy: float = 0.8
    aa: bool = True
    aa_max_rate: float = 0.1
    spike_in: bool = True
    positive_control: str | None = None
    replicate: str | None = None

    def __post_init__(self):
        rate = self.aa_max_rate
        if not _number(rate) or not 0 <= rate < 1:
            raise DataError(f"config: checks.aa_max_rate must be a number in [0, 1), got {rate!r}")

    def to_dict(self) -> dict:
        record = super().to_dict()
        if record["replicate"] is None:  # recorded from protocol v4 on: older outputs stay resumable
            del record["replicate"]
        return record


@dataclass(frozen=True)
class Audit(Section):
    """The blind audit of off-list answers: the ``rule`` a judge applies, the ``judged`` file."""

    NAME = "audit"
    rule: str = AUDIT_RULE
    judged: str | None = None


@dataclass(frozen=True)
class RuntimeSection(Section):
    """Where and how fast runs sample (``ts2.generate.Runtime``); the engine keys are recorded only
    when given, so that outputs made before they existed stay resumable."""

    NAME = "runtime"
    device: str = "auto"
    dtype: str = "auto"
    batch_tokens: int = DEFAULT_BATCH_TOKENS
    engine: str | None = None
    tensor_parallel_size: int | None = None
    data_parallel_size: int | None = None

    def __post_init__(self):
        try:  # before any training: an engine that cannot run is known now
            self.runtime().check()
        except (TypeError, ValueError) as exc:
            raise DataError(f"config: runtime: {exc}") from exc

    def runtime(self) -> SamplingRuntime:
        """The ``ts2.generate.Runtime`` of this section (its defaults for the keys not given)."""
        return SamplingRuntime(**self.to_dict())

    def to_dict(self) -> dict:
        return {k: v for k, v in super().to_dict().items() if v is not None}
