"""The exact solver ``ilp``: brute-force optima, honest bounds, limits, infeasibility."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from envs.generate import PROBLEMS, generate
from tests.bruteforce import optimum
from tests.timing import slack, within
from vrp.data import bks, reference_solution
from vrp.evaluate import evaluate
from vrp.io import read, read_solution
from vrp.model import Instance, InstanceError
from vrp.result import SolverError


def _ilp(**options: object):
    return solvers.get("ilp", options=dict(options))


def _size(variant: str) -> int:
    return 7 if variant in ("tsp", "atsp") else 6


def _check_exact(inst: Instance, **options: object) -> None:
    best = optimum(inst)
    res = _ilp(**options).solve(inst, time_limit=20.0, seed=0)
    assert res.status == "optimal", (inst.name, res.status, res.info)
    score = evaluate(inst, res.solution)
    assert score.feasible, score.violation_lines()
    assert score.objective == pytest.approx(best, rel=1e-7, abs=1e-6), (inst.name, score.objective, best)
    # optimal is only claimed when the bound meets the objective
    assert res.bound == pytest.approx(score.objective, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("variant", PROBLEMS)
def test_equals_brute_force(variant: str) -> None:
    _check_exact(generate(variant, _size(variant), seed=11))


@pytest.mark.slow
@pytest.mark.parametrize("variant", PROBLEMS)
def test_equals_brute_force_more_seeds(variant: str) -> None:
    for seed, dist in ((12, "clustered"), (13, "mixed")):
        _check_exact(generate(variant, _size(variant), distribution=dist, seed=seed))


@pytest.mark.parametrize("variant", ["tsp", "atsp"])
def test_naive_integer_loop_equals_brute_force(variant: str) -> None:
    _check_exact(generate(variant, 8, seed=21), cuts="integer")


@pytest.mark.parametrize("variant", ["tsp", "cvrp", "pctsp"])
def test_cbc_backend_equals_brute_force(variant: str) -> None:
    _check_exact(generate(variant, _size(variant), seed=22), solver="cbc")


def _reference_objective(name: str, inst: Instance) -> float:
    """The evaluator's objective of the shipped best-known solution (or BKS.csv's value)."""
    path = reference_solution(name)
    if path is None:
        return bks(name).value
    score = evaluate(inst, read_solution(path, inst))
    assert score.feasible and score.objective == bks(name).value
    return score.objective


@pytest.mark.parametrize(("name", "limit"), [("berlin52", 20.0), ("ftv33", 20.0), ("P-n16-k8", 4.0),
                                             ("kroA100", 1.5)])
def test_bound_never_better_than_bks(name: str, limit: float) -> None:
    inst = read(name)
    ref = _reference_objective(name, inst)
    res = _ilp().solve(inst, time_limit=limit, seed=0)
    assert res.solution is not None and res.bound is not None
    score = evaluate(inst, res.solution)
    assert score.feasible
    assert res.bound <= ref + 1e-6, (name, res.bound, ref)
    assert res.bound <= score.objective + 1e-6
    if res.status == "optimal":
        assert score.objective == ref and res.bound == ref
    else:
        assert res.bound < score.objective


@pytest.mark.parametrize(("name", "blossoms", "reseparate"),
                         [("berlin52", True, True), ("berlin52", False, True), ("st70", True, True),
                          ("st70", False, True), ("st70", True, False), ("ftv33", True, True),
                          ("ftv33", True, False)])
def test_proves_small_tsplib_optimal(name: str, blossoms: bool, reseparate: bool) -> None:
    inst = read(name)
    res = _ilp(blossoms=blossoms, reseparate=reseparate).solve(inst, time_limit=30.0, seed=0)
    assert res.status == "optimal", res.info
    assert evaluate(inst, res.solution).objective == bks(name).value
    assert res.bound == bks(name).value


@pytest.mark.parametrize(("option", "size", "key", "least"), [("blossoms", 30, "blossoms", 4),
                                                              ("reseparate", 60, "reseparations", 2),
                                                              ("polish", 60, "polished", 2)])
def test_a_cut_option_never_cuts_off_the_optimum(option: str, size: int, key: str, least: int) -> None:
    # Blossom rows are added on fractional points; between MIP rounds the LP is separated
    # again with columns fixed against the incumbent, and the incumbent is polished. An
    # invalid row (or a wrong incumbent) would cut off the best tour and the MIP would
    # "prove" a worse one: with the option on and off the proofs must end at the same
    # optimum. Without the warm start the MIP has to find the tour itself; the plain loop
    # is checked against brute force above.
    _ilp().warmup()  # the polish runs once the local search is compiled, as in vrp solve
    fired = 0
    for distribution in ("uniform", "clustered"):
        for seed in range(40, 46):
            inst = generate("tsp", size, distribution=distribution, seed=seed)
            on = _ilp(warm_start=0, **{option: True}).solve(inst, time_limit=20.0, seed=0)
            off = _ilp(warm_start=0, **{option: False}).solve(inst, time_limit=20.0, seed=0)
            assert on.status == off.status == "optimal", (seed, on.info, off.info)
            assert evaluate(inst, on.solution).objective == pytest.approx(evaluate(inst, off.solution).objective)
            assert on.bound == pytest.approx(off.bound)
            assert key not in off.info
            fired += on.info.get(key, 0) > 0
    assert fired >= least  # the option did act on these instances


def test_cut_rows_leave_out_fixed_columns_and_take_the_smaller_side() -> None:
    from solvers.ilp.cuts import smaller_side
    from solvers.ilp.tsp import _Graph

    n = 10
    big = np.arange(1, 9)  # 8 of 10 nodes: its cut is the one of {0, 9}
    assert smaller_side(big, n).tolist() == [0, 9]
    assert smaller_side(np.array([7, 2, 5]), n).tolist() == [2, 5, 7]
    for directed in (False, True):
        g = _Graph(n, directed)
        s = np.array([2, 5, 7])
        full, _, _, rhs = g.sec_row(s)
        assert sorted(full.tolist()) == sorted(g.inside(s).tolist()) and rhs == 2.0
        g.dead = np.zeros(g.m, dtype=bool)
        g.dead[full[:2]] = True  # two of its columns fixed at zero
        cols, vals, _, rhs = g.sec_row(s)
        assert set(cols.tolist()) == set(full.tolist()) - set(full[:2].tolist())
        assert vals.size == cols.size and rhs == 2.0
    g = _Graph(n, False)
    g.dead = np.zeros(g.m, dtype=bool)
    tooth = int(g.idx[2, 8])
    g.dead[tooth] = True
    cols, _, _, rhs = g.blossom_row(np.array([2, 5, 7]), [(2, 8), (5, 9), (7, 0)])
    assert tooth not in cols.tolist() and cols.size == 3 + 2 and rhs == 3 + 1


def test_time_limit_on_an_instance_too_big_to_prove() -> None:
    inst = read("pcb442")
    limit = 3.0
    res = within(slack(limit), lambda: _ilp().solve(inst, time_limit=limit, seed=0), "ilp on pcb442")
    assert res.status == "feasible"
    score = evaluate(inst, res.solution)
    assert score.feasible
    assert res.bound is None or res.bound < score.objective
    assert res.bound is None or res.bound <= bks("pcb442").value


def test_timeout_reports_the_lp_bound() -> None:
    inst = read("kroA200")
    limit = 3.0
    res = _ilp().solve(inst, time_limit=limit, seed=0)
    assert res.runtime <= limit + max(0.05 * limit, 0.5)
    score = evaluate(inst, res.solution)
    assert score.feasible and res.bound is not None
    assert res.bound <= bks("kroA200").value <= score.objective
    if res.status != "optimal":
        assert res.status == "feasible" and res.bound < score.objective


def test_compact_limit_is_named() -> None:
    inst = generate("vrptw", 30, seed=1)
    with pytest.raises(SolverError, match="25 customers"):
        _ilp().solve(inst, time_limit=5.0)
    # raising the limit is allowed (and returns something feasible within the time)
    res = _ilp(compact_limit=30).solve(inst, time_limit=2.0)
    assert res.solution is None or evaluate(inst, res.solution).feasible


def test_demand_above_every_capacity_is_a_clear_error() -> None:
    with pytest.raises(InstanceError, match="exceeds the capacity"):
        Instance(name="bad", coords=np.array([[0, 0], [1, 1], [2, 2]]), distances=None,
                 demands=np.array([0, 5, 50]), capacity=10)


def test_fleet_too_small_is_infeasible() -> None:
    inst = generate("cvrp", 6, seed=3).replace(num_vehicles=1, capacity=15.0)
    assert inst.demands.sum() > 15
    res = _ilp().solve(inst, time_limit=5.0)
    assert res.status == "infeasible" and res.solution is None


def test_unreachable_time_window_is_infeasible() -> None:
    coords = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 10.0]])
    tw = np.array([[0.0, 1000.0], [0.0, 50.0], [0.0, 500.0]])  # node 1 is 100 away, closes at 50
    inst = Instance(name="tw", coords=coords, distances=None, demands=np.array([0, 1, 1]), capacity=10,
                    time_windows=tw, service_times=np.zeros(3))
    res = _ilp().solve(inst, time_limit=5.0)
    assert res.status == "infeasible" and res.solution is None


def test_options_are_validated() -> None:
    with pytest.raises(SolverError, match="cuts"):
        _ilp(cuts="magic")
    with pytest.raises(SolverError, match="solver"):
        _ilp(solver="gurobi")
    s = solvers.get("ilp", options={"threads": "2", "cuts": "integer", "warm_start": "0.5"})
    assert s.params.threads == 2 and s.params.warm_start == 0.5


def test_naive_loop_timeout_reports_a_valid_bound() -> None:
    # PuLP reports HiGHS's time limit as status "Optimal": the bound must still be a bound.
    inst = read("kroA200")
    res = _ilp(cuts="integer").solve(inst, time_limit=3.0, seed=0)
    score = evaluate(inst, res.solution)
    assert score.feasible
    assert res.status == "feasible"
    assert res.bound is None or res.bound <= bks("kroA200").value


def _separated_lp(inst, blossoms: bool):  # type: ignore[no-untyped-def]
    """The LP point of ``inst`` separated until no subtour cut (and with ``blossoms`` no blossom)
    is violated: (support weights, x, the column layout)."""
    from solvers.ilp.cuts import blossom_cuts, subtour_cuts
    from solvers.ilp.highs import HighsModel
    from solvers.ilp.tsp import _Graph

    n, d = inst.n, inst.distances
    g = _Graph(n, False)
    model = HighsModel(d[g.i, g.j], np.zeros(g.m), np.ones(g.m), threads=1)
    model.add_rows(g.degree_rows())
    while True:
        _, _, x, _ = model.solve_lp()
        w = g.support(x)
        cuts = [s for s in subtour_cuts(w, 2.0) if 2 <= s.size <= n - 2]
        found = [] if cuts or not blossoms else blossom_cuts(w)
        if not cuts and not found:
            return w, x, g
        model.add_rows([g.sec_row(s) for s in cuts] + [g.blossom_row(h, t) for h, t in found])


def test_blossom_separation_finds_the_textbook_comb_and_only_valid_ones() -> None:
    from solvers.ilp.cuts import blossom_cuts, comb_excess

    # Two half-weight triangles joined by three 1-edges: degree 2 everywhere, no subtour
    # cut violated, and the blossom of either triangle violated by 1/2.
    w = np.zeros((6, 6))
    for a, b, x in [(0, 1, .5), (1, 2, .5), (0, 2, .5), (3, 4, .5), (4, 5, .5), (3, 5, .5),
                    (0, 3, 1), (1, 4, 1), (2, 5, 1)]:
        w[a, b] = w[b, a] = x
    found = blossom_cuts(w)
    assert {tuple(h.tolist()) for h, _ in found} == {(0, 1, 2), (3, 4, 5)}
    for h, teeth in found:
        inside = np.isin(np.arange(6), h)
        assert sorted(teeth) in ([(0, 3), (1, 4), (2, 5)], [(3, 0), (4, 1), (5, 2)])
        assert comb_excess(w, inside, teeth) == pytest.approx(0.5)

    # The subtour-tight LP point of a real instance: every comb returned is a blossom
    # (an odd number >= 3 of disjoint teeth, each with one end in the handle), violated,
    # and holds for the optimal tour.
    inst = read("st70")
    n = inst.n
    w, _, _ = _separated_lp(inst, blossoms=False)
    combs = blossom_cuts(w)
    assert combs
    res = _ilp().solve(inst, time_limit=30.0, seed=0)
    tour = res.solution.routes[0]
    cycle = [inst.depot, *tour, inst.depot] if tour[0] != inst.depot else [*tour, tour[0]]
    opt = np.zeros((n, n))
    for a, b in zip(cycle, cycle[1:]):
        opt[a, b] = opt[b, a] = 1.0
    assert opt.sum(1).tolist() == [2.0] * n
    for h, teeth in combs:
        inside = np.isin(np.arange(n), h)
        ends = [a for t in teeth for a in t]
        assert len(teeth) % 2 == 1 and len(teeth) >= 3 and len(set(ends)) == len(ends)
        assert all(inside[u] != inside[v] for u, v in teeth)
        assert comb_excess(w, inside, teeth) > 1e-4
        assert comb_excess(opt, inside, teeth) <= 1e-9


def test_comb_separation_lifts_blossoms_of_the_contracted_graph_to_valid_combs() -> None:
    from solvers.ilp.cuts import comb_cuts, comb_set_excess

    # st70's LP separated with subtour and blossom cuts until the blossom heuristic finds
    # nothing more: the combs of the contracted graph still cut the point off, with teeth of
    # more than two nodes, and every comb (its row as the LP sees it) holds for the optimal tour.
    inst = read("st70")
    n = inst.n
    w, x, g = _separated_lp(inst, blossoms=True)
    combs = comb_cuts(w)
    assert combs and any(t.size > 2 for _, teeth in combs for t in teeth)
    tour = _ilp().solve(inst, time_limit=30.0, seed=0).solution.routes[0]
    tour_x = g.tour_vector([inst.depot, *tour])
    for h, teeth in combs:
        inside = np.isin(np.arange(n), h)
        members = np.concatenate(teeth)
        assert len(teeth) % 2 == 1 and len(teeth) >= 3 and np.unique(members).size == members.size
        assert all(inside[t].any() and not inside[t].all() for t in teeth)
        cols, vals, _, rhs = g.comb_row(h, teeth)
        assert float(vals @ x[cols]) - rhs == pytest.approx(comb_set_excess(w, h, teeth))
        assert comb_set_excess(w, h, teeth) > 1e-4
        assert float(vals @ tour_x[cols]) <= rhs + 1e-9
