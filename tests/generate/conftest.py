import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hf"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
