import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tiny import addition_records, make_model_dir, write_jsonl  # noqa: E402


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("models") / "llama", "llama")


@pytest.fixture(scope="session")
def train_file(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "train.jsonl", addition_records(48))
