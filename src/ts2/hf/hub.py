"""Models and datasets named by a local directory or a Hugging Face Hub id.

A name that is an existing directory is used as it is (``revision`` None).  A name that looks like
a path (``/``, ``./``, ``../``, ``~``, or an existing file) and is not a directory is an error.
Anything else is a Hub repo id, resolved as Transformers resolves it: ``huggingface_hub``'s
``snapshot_download`` into the standard cache (``HF_HOME`` / ``HF_HUB_CACHE``), honouring
``HF_HUB_OFFLINE`` and the user's stored token.  The result is the local snapshot directory and
the commit it holds (the snapshot folder's name), which outputs record so that a result names the
exact weights; everything downstream (Transformers, vLLM, ts2's own file reads) reads that
directory.

Online, only what a model directory needs is downloaded: the top-level configuration, tokenizer
and template files, the weights as safetensors (``.bin`` only when the repo has no safetensors),
and the module folders of sentence-transformers models (``1_Pooling/config.json``, ...); not
``original/`` checkpoints, ``consolidated.safetensors`` or ONNX / OpenVINO exports.

Every failure a user can cause (an id not cached while offline, a repo that does not exist or is
gated, a revision that does not exist) is a ``HubError`` (a ValueError) naming the id, the
revision, the cache directory looked in and how to get it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Top-level files of a model directory besides its weights.
MODEL_FILES = ("*.json", "*.model", "*.txt", "*.jinja", "*.tiktoken", "*.py", "tokenizer*", "*.vocab", "*.merges")
# A sentence-transformers module folder (1_Pooling, 2_Dense, 3_Normalize, ...): small files only.
MODULE_FOLDER = re.compile(r"^\d+_[A-Za-z]\w*/[^/]+\.(json|txt|safetensors)$")
SAFETENSORS = re.compile(r"^(model|adapter_model)(-\d+-of-\d+)?\.safetensors(\.index\.json)?$")
BIN = re.compile(r"^(pytorch_model|adapter_model)(-\d+-of-\d+)?\.bin(\.index\.json)?$")
DATA_SUFFIXES = (".parquet", ".json", ".jsonl", ".csv", ".arrow", ".json.gz", ".jsonl.gz", ".csv.gz", ".txt")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class HubError(ValueError):
    """A Hub id that cannot be used here; the message says which, where it looked and what to do."""


@dataclass(frozen=True)
class Resolved:
    """A model or dataset as named (``name``), the local directory that holds it (``path``) and,
    for a Hub id, the commit of that snapshot (``revision``; None for a local directory)."""

    name: str
    path: Path
    revision: str | None = None

    @property
    def is_hub(self) -> bool:
        return self.revision is not None

    def __str__(self) -> str:
        return str(self.path)


ResolvedModel = Resolved


def hub_cache() -> Path:
    """The hub cache directory in use (HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).expanduser().resolve()


def offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.is_offline_mode())


def looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", ".\\")) or name in (".", "..") or Path(name).exists() \
        or not REPO_ID.match(name)


def _local(name: str, revision: str | None, flag: str) -> Path | None:
    """The directory ``name`` names, or None for a Hub id; a path that is not a directory is an error."""
    path = Path(name).expanduser()
    if path.is_dir():
        if revision is not None:
            raise HubError(f"{flag} {name}: --revision applies to Hub ids, and {name} is a local directory")
        return path
    if looks_like_path(name):
        what = "a file, not a directory" if path.exists() else "no such directory"
        raise HubError(f"{flag} {name}: {what}; give a model directory (with config.json) or a Hugging Face Hub "
                       "id (ORG/NAME)")
    return None


def check_model_dir(path) -> None:
    """A local directory must hold a Transformers model (or a PEFT adapter)."""
    if path is None:
        raise ValueError("model is required: --model PATH or a Hugging Face Hub id (ORG/NAME)")
    if not (Path(path) / "config.json").is_file() and not (Path(path) / "adapter_config.json").is_file():
        raise ValueError(f"model={str(path)!r} is not a Transformers model directory (no config.json)")


def resolve_model(name, revision: str | None = None, flag: str = "--model") -> Resolved:
    """``name`` as a local model directory or the snapshot of a Hub id (see the module's docstring).
    A local directory keeps ``check_model_dir``'s checks; so does the snapshot."""
    if isinstance(name, Resolved):
        return name
    if name is None:
        check_model_dir(None)
    name = str(name)
    local = _local(name, revision, flag)
    if local is not None:
        check_model_dir(local)
        return Resolved(name, local, None)
    path = _snapshot(name, revision, "model", flag, _model_files, ["config.json"])
    if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
        raise HubError(f"{flag} {name}: the cached snapshot {path} has no config.json (not a Transformers model, "
                       f"or only part of it was downloaded); get it with `hf download {name}`")
    return Resolved(name, path, path.name)


def resolve_dataset(name, revision: str | None = None, flag: str = "--data", split: str | None = None) -> Resolved:
    """``name`` as a local file or directory, or the snapshot of a Hub dataset repo (its data files;
    online, those of ``split`` when the file names tell)."""
    name = str(name)
    path = Path(name).expanduser()
    if path.exists() or looks_like_path(name):
        if revision is not None:
            raise HubError(f"{flag} {name}: a revision applies to Hub ids, and {name} is a local path")
        return Resolved(name, path, None)
    path = _snapshot(name, revision, "dataset", flag, lambda files: _data_files(files, split), ["README.md"])
    return Resolved(name, path, path.name)


def resolve_file(name: str, filename: str, revision: str | None = None, flag: str = "SOURCE") -> tuple[Path, str]:
    """(local path, commit) of one file of a Hub model repo (``hf_hub_download``)."""
    from huggingface_hub import hf_hub_download

    try:
        path = Path(hf_hub_download(name, filename, revision=revision))
    except Exception as exc:
        raise _hub_error(exc, name, revision, "model", flag, f" (file {filename})") from exc
    return path, path.parent.name if path.parent.parent.name == "snapshots" else _commit_of(path)


def _commit_of(path: Path) -> str:
    for parent in path.parents:
        if parent.parent.name == "snapshots":
            return parent.name
    return ""


def _snapshot(name: str, revision: str | None, repo_type: str, flag: str, select, marker: list[str]) -> Path:
    from huggingface_hub import HfApi, snapshot_download

    patterns = marker  # offline, or the Hub cannot be listed: the cache decides (a marker file only is required)
    try:
        if not offline():
            try:
                files = HfApi().list_repo_files(name, revision=revision, repo_type=repo_type)
                patterns = select(files) or None
            except (OSError, ConnectionError) as exc:  # no network: the cache may still hold it
                if _is_user_error(exc):
                    raise
        path = Path(snapshot_download(name, revision=revision, repo_type=repo_type, allow_patterns=patterns))
    except HubError:
        raise
    except Exception as exc:
        raise _hub_error(exc, name, revision, repo_type, flag) from exc
    return path


def _is_user_error(exc: Exception) -> bool:
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    return isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError))


def _hub_error(exc: Exception, name: str, revision: str | None, repo_type: str, flag: str, what: str = "") -> HubError:
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    kind = "dataset" if repo_type == "dataset" else "model"
    at = f" at revision {revision}" if revision else ""
    get = f"hf download {name}{' --repo-type dataset' if kind == 'dataset' else ''}" \
          f"{f' --revision {revision}' if revision else ''}"
    where = f"looked in the Hugging Face cache {hub_cache()}"
    url = f"https://huggingface.co/{'datasets/' if kind == 'dataset' else ''}{name}"
    if isinstance(exc, HFValidationError):
        return HubError(f"{flag} {name}: neither a local directory nor a valid Hugging Face Hub id ({exc})")
    if isinstance(exc, GatedRepoError):
        return HubError(f"{flag} {name}: the {kind} is gated: accept its terms at {url} and log in "
                        f"(`hf auth login` or HF_TOKEN); {where}")
    if isinstance(exc, RevisionNotFoundError):
        return HubError(f"{flag} {name}: revision {revision!r} does not exist on the Hub; {where}")
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(f"{flag} {name}: no such {kind} on the Hugging Face Hub (or it is private: log in with "
                        f"`hf auth login` or HF_TOKEN), and no such local directory; {where}")
    if isinstance(exc, LocalEntryNotFoundError):
        if offline():
            return HubError(f"{flag} {name}{at}{what}: not in the Hugging Face cache and HF_HUB_OFFLINE is set; "
                            f"{where}. Get it with `{get}` (into that cache), or unset HF_HUB_OFFLINE")
        return HubError(f"{flag} {name}{at}{what}: the Hub cannot be reached and it is not cached; {where}. "
                        f"Get it with `{get}` where there is network")
    return HubError(f"{flag} {name}{at}{what}: cannot be fetched from the Hugging Face Hub "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); {where}; "
                    f"try `{get}`")


def _model_files(files: list[str]) -> list[str]:
    """What a model directory needs of a repo's files (see the module's docstring)."""
    from fnmatch import fnmatch

    top = [f for f in files if "/" not in f]
    weights = [f for f in top if SAFETENSORS.match(f)] or [f for f in top if BIN.match(f)]
    other = [f for f in top if any(fnmatch(f, p) for p in MODEL_FILES) and not SAFETENSORS.match(f)
             and not BIN.match(f)]  # the other format's index is not wanted either
    modules = [f for f in files if MODULE_FOLDER.match(f)]
    return sorted({*weights, *other, *modules})


def _data_files(files: list[str], split: str | None) -> list[str]:
    """A dataset repo's data files (of ``split`` when some file names carry it) and its README."""
    data = [f for f in files if f.endswith(DATA_SUFFIXES) and not f.startswith(".")]
    if split:
        token = re.compile(rf"(^|[/_.-]){re.escape(split)}([/_.-]|$)")
        mine = [f for f in data if token.search(f)]
        data = mine or data
    return sorted({*data, *(f for f in files if f == "README.md")})


def record(resolved: Resolved, key: str = "model") -> dict:
    """{key: name, key_revision: commit} as outputs record a model (the commit is None for a directory)."""
    return {key: resolved.name, f"{key}_revision": resolved.revision}
