"""LP-dual restrictions of a 0/1 maximisation ``max c.y, lo <= A y <= hi, 0 <= y <= 1``.

For any row prices ``pi`` (HiGHS's sign convention on ``min -c.y``: ``pi_r <= 0`` on a
row held at its upper side, ``>= 0`` at its lower side), with reduced costs
``d = -c - A^T pi``, every feasible ``y`` satisfies the identity::

    c.y = D - loss(y),   D = -(sum_r pi_r * side_r + sum_j min(d_j, 0))
    loss(y) = sum_{d_j > 0} d_j y_j + sum_{d_j < 0} |d_j| (1 - y_j) + sum_r |pi_r| slack_r

where every term of ``loss`` is >= 0 (``slack_r`` is the distance of row ``r`` from
the side its price is on). So ``D`` is an upper bound, and a solution worth at least
``T`` has ``loss <= B = D - T``, hence *each term* is at most ``B``: a column whose
``|d_j|`` exceeds ``B`` is fixed, and a priced row may move at most ``B / |pi_r|``
from its side. These are valid for every solution worth ``T`` or more; when the
row is integral (integer coefficients on integer columns) its new side is rounded.

With ``B`` small (a target near the LP bound) the restricted model is tiny and
HiGHS either finds a solution worth ``T`` or proves there is none, both far
faster than on the full model, where the primal side of such
degenerate packing problems (many items with equal value per unit of capacity) is
the hard part. :class:`DualRestriction` computes the fixings and row sides once
from one LP solution; :meth:`DualRestriction.at` gives them for a target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Slack on every comparison against ``B`` (absolute, scaled by ``1 + |D|``): the fixings
#: must never cut off a solution that float rounding in the LP duals put on the edge.
TOL = 1e-7


@dataclass(frozen=True)
class Restricted:
    """Column bounds and row sides valid for every solution worth at least ``target``."""

    target: int
    budget: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    @property
    def free(self) -> int:
        return int((self.col_upper - self.col_lower).sum())


class DualRestriction:
    """The bound ``D`` and the per-target restrictions from one set of row prices.

    ``A`` is the row matrix (CSR), ``row_lower``/``row_upper`` its sides (``±inf``
    where open), ``profit`` the maximised objective ``c``, ``row_dual`` HiGHS's row
    duals of the LP relaxation of ``min -c.y`` (any values: prices on the wrong
    side of an open row are dropped, and ``D`` is recomputed from what is left,
    so it is a valid bound whatever the LP solver's accuracy).
    """

    def __init__(self, A: sp.csr_matrix, row_lower: np.ndarray, row_upper: np.ndarray, profit: np.ndarray,
                 row_dual: np.ndarray) -> None:
        pi = np.asarray(row_dual, dtype=np.float64).copy()
        lo = np.asarray(row_lower, dtype=np.float64)
        hi = np.asarray(row_upper, dtype=np.float64)
        pi[(pi < 0) & ~np.isfinite(hi)] = 0.0
        pi[(pi > 0) & ~np.isfinite(lo)] = 0.0
        side = np.where(pi < 0, np.where(np.isfinite(hi), hi, 0.0), np.where(np.isfinite(lo), lo, 0.0))
        d = -np.asarray(profit, dtype=np.float64) - A.T @ pi
        self.A = A
        self.lo, self.hi = lo, hi
        self.pi = pi
        self.d = d
        self.bound = -float(pi @ side + np.minimum(d, 0.0).sum())
        data_int = A.data == np.round(A.data)
        row_of = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        self.integral_row = np.bincount(row_of[~data_int], minlength=A.shape[0]) == 0

    @property
    def integer_bound(self) -> float:
        """``floor(D)``: the bound when every solution's value is an integer."""
        return float(np.floor(self.bound + 1e-6))

    def at(self, target: int) -> Restricted:
        """The restriction for solutions worth at least ``target``."""
        B = self.bound - target
        B_tol = B + TOL * (1.0 + abs(self.bound))
        n = self.d.size
        col_lo, col_hi = np.zeros(n), np.ones(n)
        col_hi[self.d > B_tol] = 0.0
        col_lo[self.d < -B_tol] = 1.0
        lo, hi = self.lo.copy(), self.hi.copy()
        up = self.pi < 0
        down = self.pi > 0
        with np.errstate(divide="ignore"):
            lo[up] = np.maximum(lo[up], hi[up] - B_tol / -self.pi[up])
            hi[down] = np.minimum(hi[down], lo[down] + B_tol / self.pi[down])
        r = up & self.integral_row
        lo[r] = np.ceil(lo[r] - 1e-9)
        r = down & self.integral_row
        hi[r] = np.floor(hi[r] + 1e-9)
        return Restricted(int(target), float(B), col_lo, col_hi, lo, hi)
