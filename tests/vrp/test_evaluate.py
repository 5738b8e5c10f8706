from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.generate import PROBLEMS, generate
from vrp import data, io
from vrp.evaluate import evaluate, gap_pct
from vrp.model import Instance, InstanceError, Solution

WITH_REFERENCE = [n for n in data.names() if data.reference_solution(n) is not None]


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_reproduces_every_shipped_solution(name: str) -> None:
    inst = io.read(name)
    ref = data.reference_solution(name)
    assert ref is not None
    sol = io.read_solution(ref, inst)
    score = evaluate(inst, sol)
    assert score.feasible, score.violation_lines()
    bks = data.bks(name)
    assert bks is not None
    assert score.objective == bks.value
    if ref.suffix == ".sol":
        _, cost = io.parse_sol(ref.read_text())
        assert cost == score.objective


def test_x_fleet_is_unlimited() -> None:
    inst = io.read("X-n101-k25")
    sol = io.read_solution(data.reference_solution("X-n101-k25"), inst)  # type: ignore[arg-type]
    assert sol.num_routes == 26 and inst.num_vehicles is None
    assert evaluate(inst, sol).feasible


def _reference_score(inst: Instance, sol: Solution) -> tuple[float, bool]:
    """Plain-Python objective and feasibility, written independently of the evaluator."""
    d = inst.distances
    o = inst.depot
    dist = 0.0
    ok = True
    seen: list[int] = []
    for k, route in enumerate(sol.routes):
        if not route:
            continue
        path = [o, *route] + ([] if inst.open_routes else [o])
        dist += sum(float(d[a, b]) for a, b in zip(path, path[1:]))
        seen += list(route)
        if inst.demands is not None:
            if inst.vehicle_capacities is not None:
                cap = inst.vehicle_capacities[k] if k < len(inst.vehicle_capacities) else 0.0
            else:
                cap = inst.capacity
            if sum(inst.demands[v] for v in route) > cap + 1e-6:  # type: ignore[operator]
                ok = False
        if inst.time_windows is not None:
            t = inst.time_windows[o][0]
            prev = o
            for v in route:
                t += inst.service_times[prev] + d[prev, v]  # type: ignore[index]
                if t > inst.time_windows[v][1] + 1e-6:
                    ok = False
                t = max(t, inst.time_windows[v][0])
                prev = v
            if t + inst.service_times[prev] + d[prev, o] > inst.time_windows[o][1] + 1e-6:  # type: ignore[index]
                ok = False
        if inst.max_length is not None:
            seg = sum(float(d[a, b]) for a, b in zip(path, path[1:]))
            if seg > inst.max_length + 1e-6:
                ok = False
    if len(seen) != len(set(seen)) or o in seen:
        ok = False
    missing = [int(c) for c in inst.customers if int(c) not in seen]
    if missing and not inst.allows_skipping:
        ok = False
    nroutes = sum(1 for r in sol.routes if r)
    if inst.vehicle_capacities is not None:
        if len(sol.routes) > len(inst.vehicle_capacities):
            ok = False
    elif inst.num_vehicles is not None and nroutes > inst.num_vehicles:
        ok = False
    if inst.variant == "op":
        return float(sum(inst.prizes[list(set(seen))])), ok  # type: ignore[index]
    if inst.variant == "pctsp":
        if sum(inst.prizes[list(set(seen))]) < (inst.min_prize or 0) - 1e-6:  # type: ignore[index]
            ok = False
        return dist + float(sum(inst.penalties[missing])), ok  # type: ignore[index]
    return dist, ok


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PROBLEMS), st.integers(2, 14), st.integers(0, 999), st.data())
def test_matches_plain_python_reference(problem: str, size: int, seed: int, draw: st.DataObject) -> None:
    inst = generate(problem, size, seed=seed)
    cust = [int(c) for c in inst.customers]
    perm = draw.draw(st.permutations(cust))
    if inst.allows_skipping:
        keep = draw.draw(st.integers(0, len(perm)))
        perm = perm[:keep]
    if inst.variant in ("tsp", "atsp", "op", "pctsp"):
        routes = [list(perm)]
    else:
        cuts = sorted(draw.draw(st.sets(st.integers(1, max(1, len(perm) - 1)), max_size=len(perm))))
        routes = [list(perm[a:b]) for a, b in zip([0, *cuts], [*cuts, len(perm)])]
    if draw.draw(st.booleans()) and perm:  # sometimes duplicate a node
        routes[0] = routes[0] + [perm[0]]
    sol = Solution(routes)
    score = evaluate(inst, sol)
    ref_obj, ref_ok = _reference_score(inst, sol)
    assert score.objective == pytest.approx(ref_obj, rel=1e-9, abs=1e-9)
    assert score.feasible == ref_ok, score.violation_lines()


def test_injected_violations_are_found() -> None:
    inst = io.read("A-n32-k5")
    sol = io.read_solution(data.reference_solution("A-n32-k5"), inst)  # type: ignore[arg-type]
    # capacity + 1: move one customer into the fullest route's neighbour until it overflows
    cap = inst.capacity
    loads = [sum(inst.demands[list(r)]) for r in sol.routes]  # type: ignore[index]
    full = int(np.argmax(loads))
    other = next(k for k in range(len(sol.routes)) if k != full)
    donor = min(sol.routes[other], key=lambda v: inst.demands[v])  # type: ignore[index]
    routes = [list(r) for r in sol.routes]
    routes[other].remove(donor)
    routes[full].append(donor)
    s = evaluate(inst, Solution(routes))
    assert loads[full] + inst.demands[donor] > cap  # type: ignore[index,operator]
    assert any(v.kind == "capacity" and v.route == full for v in s.violations)
    # a dropped customer
    routes = [list(r) for r in sol.routes]
    dropped = routes[0].pop()
    s = evaluate(inst, Solution(routes))
    assert [v.node for v in s.violations if v.kind == "missing"] == [dropped]
    # a duplicate
    routes = [list(r) for r in sol.routes]
    routes[1].append(routes[0][0])
    assert any(v.kind == "duplicate" for v in evaluate(inst, Solution(routes)).violations)


def test_late_arrival_is_found() -> None:
    inst = io.read("C101")
    sol = io.read_solution(data.reference_solution("C101"), inst)  # type: ignore[arg-type]
    routes = [list(r) for r in sol.routes]
    routes[0] = routes[0][::-1]
    s = evaluate(inst, Solution(routes))
    tw = [v for v in s.violations if v.kind == "time_window"]
    assert tw and tw[0].route == 0 and "reached at" in tw[0].message


def test_fleet_and_quota_and_length() -> None:
    inst = io.read("C101")
    singles = Solution([[int(c)] for c in inst.customers])
    assert any(v.kind == "fleet" for v in evaluate(inst, singles).violations)
    op = generate("op", 10, seed=1)
    s = evaluate(op, Solution([list(op.customers)]))
    assert any(v.kind == "route_length" for v in s.violations)
    pc = generate("pctsp", 10, seed=1)
    s = evaluate(pc, Solution([[]]))
    assert any(v.kind == "prize_quota" for v in s.violations)
    assert s.objective == pytest.approx(float(pc.penalties.sum()))  # type: ignore[union-attr]


def test_node_that_does_not_exist_is_an_error() -> None:
    inst = generate("cvrp", 5, seed=0)
    with pytest.raises(InstanceError, match="does not exist"):
        evaluate(inst, Solution([[1, 2, 99]]))


def test_gap_in_both_senses() -> None:
    assert gap_pct(110, 100, "min") == pytest.approx(10)
    assert gap_pct(90, 100, "max") == pytest.approx(10)
    assert gap_pct(100, 100, "max") == 0


def test_large_instance_scores_quickly() -> None:
    # Correctness-oriented smoke check; the timing target lives in benchmarks/evaluate.py.
    inst = io.read("X-n1001-k43")
    sol = io.read_solution(data.reference_solution("X-n1001-k43"), inst)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    for _ in range(10):
        evaluate(inst, sol)
    assert time.perf_counter() - t0 < 10
