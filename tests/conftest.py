import os
import sys

import torch

# Tests import their helpers (references.py, cases.py) as plain modules.
sys.path.insert(0, os.path.dirname(__file__))
torch.set_num_threads(min(2, os.cpu_count() or 1))
