"""LP-dual restrictions (solvers.network.dual) never cut off a solution worth the target."""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

import solvers
from envs.network_generate import generate_flows_problem
from solvers.ilp.highs import ensure_threads
from solvers.network.dual import DualRestriction
from vrp.network import evaluate_flows


def packing(seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """A small 0/1 packing problem with one-of rows and knapsack rows, like the path model."""
    rng = np.random.default_rng(seed)
    n = 12
    groups = np.repeat(np.arange(6), 2)
    rows = [np.where(groups == g, 1.0, 0.0) for g in range(6)]  # sum over a group <= 1
    for _ in range(4):
        rows.append(np.where(rng.random(n) < 0.5, rng.integers(1, 6, n), 0).astype(float))
    A = np.array(rows)
    hi = np.concatenate([np.ones(6), np.maximum(A[6:].sum(axis=1) // 3, 1.0)])
    lo = np.full(hi.size, -np.inf)
    profit = rng.integers(1, 10, n).astype(float)
    return sp.csr_matrix(A), lo, hi, profit


def lp_duals(A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, profit: np.ndarray) -> tuple[float, np.ndarray]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    ensure_threads(1)  # HiGHS's scheduler is per process
    h.setOptionValue("threads", 1)
    n = profit.size
    h.addCols(n, -profit, np.zeros(n), np.ones(n), 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    inf = highspy.kHighsInf
    for r in range(A.shape[0]):
        row = A.getrow(r)
        h.addRow(-inf if not np.isfinite(lo[r]) else lo[r], hi[r], row.nnz, row.indices.astype(np.int32), row.data)
    h.run()
    return -h.getInfo().objective_function_value, np.array(h.getSolution().row_dual)


@pytest.mark.parametrize("seed", range(8))
def test_restriction_keeps_every_solution_worth_the_target(seed: int) -> None:
    A, lo, hi, profit = packing(seed)
    lp, duals = lp_duals(A, lo, hi, profit)
    dual = DualRestriction(A, lo, hi, profit, duals)
    assert dual.bound == pytest.approx(lp, abs=1e-6)
    feasible = []
    for bits in itertools.product((0.0, 1.0), repeat=profit.size):
        x = np.array(bits)
        act = A @ x
        if np.all(act <= hi + 1e-9):
            feasible.append((float(profit @ x), x, act))
    best = max(v for v, _, _ in feasible)
    assert best <= dual.bound + 1e-6
    cut_off_somewhere = False
    for target in range(int(best) - 6, int(np.floor(dual.bound + 1e-6)) + 1):
        r = dual.at(target)
        for v, x, act in feasible:
            inside = (np.all(x >= r.col_lower) and np.all(x <= r.col_upper)
                      and np.all(act >= r.row_lower - 1e-9) and np.all(act <= r.row_upper + 1e-9))
            if v >= target:
                assert inside, (target, v)
            cut_off_somewhere |= not inside
    assert cut_off_somewhere  # the restriction does restrict


def test_wrong_sided_prices_still_give_a_valid_bound() -> None:
    A, lo, hi, profit = packing(3)
    lp, duals = lp_duals(A, lo, hi, profit)
    noisy = duals + np.random.default_rng(0).normal(0, 0.3, duals.size)  # some now on the open side
    assert DualRestriction(A, lo, hi, profit, noisy).bound >= lp - 1e-6


def test_path_ilp_proves_what_plain_highs_proves() -> None:
    pb = generate_flows_problem("waxman", 30, 300, seed=7)  # two targets are refuted before the optimum
    guided = solvers.get("ilp", solvers.NETWORK, {"model": "path"}).solve(pb, time_limit=60)
    plain = solvers.get("ilp", solvers.NETWORK, {"model": "path", "dual_search": 0, "fix_and_solve": 0}) \
        .solve(pb, time_limit=60)
    assert guided.info["optimal_over"] == "k-paths" and plain.info["optimal_over"] == "k-paths"
    g, q = evaluate_flows(pb, guided.solution), evaluate_flows(pb, plain.solution)
    assert g.feasible and q.feasible
    assert g.objective == q.objective
    assert guided.info["k_path_bound"] == pytest.approx(g.objective)
    assert guided.info["targets_refuted"] >= 1

