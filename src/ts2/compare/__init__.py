"""`ts2 compare`: methods trained from one base model, sampled, scored and compared with intervals."""

from .config import CompareConfig, load_config
from .run import run_compare

__all__ = ["CompareConfig", "load_config", "run_compare"]
