import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tiny import make_model_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("gen") / "llama", "llama", seed=3)
