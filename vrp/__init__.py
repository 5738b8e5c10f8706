"""vrp-toolkit core: the problem model, file formats and the one evaluator.

Importing :mod:`vrp` is light: no torch, OR-Tools or PuLP.
"""

from vrp.evaluate import Score, Violation, evaluate, gap_pct
from vrp.model import Instance, InstanceError, Solution
from vrp.result import Result, Solver, SolverError

__all__ = ["Instance", "InstanceError", "Result", "Score", "Solution", "Solver", "SolverError", "Violation",
           "evaluate", "gap_pct"]
__version__ = "0.1.0"
