"""Run model-written code against a problem's tests, in separate, limited processes, with a verdict
the code cannot forge (``runner``: the two processes and their verdict; ``namespaces``: the
Linux walls around them; ``harness_program`` / ``guard_program``: the programs they run)."""

from .runner import (
    MODE_PROTECTIONS,
    PROTECTIONS,
    WALLS,
    Check,
    Limits,
    Outcome,
    isolation_report,
    required_isolation_report,
    run_check,
    run_checks,
)

__all__ = ["MODE_PROTECTIONS", "PROTECTIONS", "WALLS", "Check", "Limits", "Outcome", "isolation_report",
           "required_isolation_report", "run_check", "run_checks"]
