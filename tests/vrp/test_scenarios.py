"""Scenario evaluation: the deterministic day, seeds, convergence, a plain-Python simulation, recourse by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import solvers
from envs.generate import generate
from vrp import Instance, Solution, evaluate, io
from vrp.scenarios import (
    Congestion,
    NoiseError,
    NoiseModel,
    ScenarioSet,
    buffered,
    evaluate_scenarios,
    parse_noise,
    quantile_se,
    simulate,
)

EPS = 1e-6
FULL = "travel=lognormal:0.3 congestion=0:1.5,40:1.0,90:1.2 incident=0.2:7 demand=poisson"


def _solve(inst: Instance, name: str = "nearest") -> Solution:
    return solvers.get(name).solve(inst, time_limit=5, seed=0).solution


@pytest.fixture(scope="module")
def x101() -> tuple[Instance, Solution]:
    inst = io.read("X-n101-k25")
    return inst, _solve(inst, "savings")


def _tiny(**changes) -> Instance:
    """Seven nodes on a small grid, capacity 10, windows and service times (vrptw)."""
    coords = [[0, 0], [3, 4], [6, 8], [-4, 3], [-8, 6], [-5, -5], [7, -1]]
    kw = dict(name="tiny", coords=coords, distances=None, rounding="exact", metric="euclidean",
              demands=[0, 4, 5, 3, 6, 2, 5], capacity=10.0,
              time_windows=[[0, 200], [0, 30], [10, 40], [0, 25], [15, 60], [0, 100], [5, 35]],
              service_times=[0, 2, 2, 2, 2, 2, 2])
    kw.update(changes)
    return Instance(**kw)


TINY_ROUTES = Solution([[1, 2], [3, 4, 5], [6]])


# ---------------------------------------------------------------------------- the deterministic day
@pytest.mark.parametrize("problem", ["tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op", "pctsp"])
def test_zero_noise_reproduces_the_evaluator(problem: str) -> None:
    inst = generate(problem, 20, seed=3)
    sol = _solve(inst)
    score = evaluate(inst, sol)
    res = evaluate_scenarios(inst, sol, NoiseModel(), n=7, seed=5)
    base = score.objective if score.sense == "min" else score.cost
    assert res.cost == base and res.cost_p95 == base and res.base == base  # exactly, not approximately
    assert res.cost_se == 0 and res.recourse == 0 and res.degradation_pct == 0
    assert (res.failure_rate == 0) if inst.demands is not None else res.failure_rate is None
    tw_late = [v for v in score.violations if v.kind == "time_window"]
    if inst.time_windows is not None:
        assert res.on_time_rate == 1.0 - sum(v.node != inst.depot for v in tw_late) / len(sol.visited)
        assert (res.lateness > 0) == bool(tw_late)
    else:
        assert res.on_time_rate is None and res.lateness == 0
    out = simulate(inst, sol, ScenarioSet(inst, NoiseModel(), 3))
    assert out.routes == score.num_routes and out.customers == len(sol.visited)
    if inst.time_windows is None and not inst.open_routes:
        assert res.duration == pytest.approx(score.cost)  # travel time = distance, nothing else


def test_zero_noise_on_shipped_files_and_the_violations_it_sees() -> None:
    c101 = io.read("C101")
    good = _solve(c101, "savings")
    res = evaluate_scenarios(c101, good, "none", n=4)
    assert res.cost == evaluate(c101, good).objective and res.on_time_rate == 1.0 and res.lateness == 0
    # The same routes run backwards break windows: zero noise sees exactly the evaluator's violations.
    bad = Solution([tuple(reversed(r)) for r in good.routes])
    score = evaluate(c101, bad)
    late_customers = {v.node for v in score.violations if v.kind == "time_window" and v.node != c101.depot}
    res = evaluate_scenarios(c101, bad, None, n=2)
    assert res.on_time_rate == 1.0 - len(late_customers) / 100
    assert res.cost == score.objective and res.lateness > 0
    # Two routes merged overload their vehicle: it fails in every scenario and pays a return.
    merged = Solution([good.routes[0] + good.routes[1], *good.routes[2:]])
    assert any(v.kind == "capacity" for v in evaluate(c101, merged).violations)
    res = evaluate_scenarios(c101, merged, None, n=2)
    assert res.failure_rate == 1 / len(merged.routes) and res.recourse > 0


# ---------------------------------------------------------------------------- seeds and convergence
def test_same_seed_same_figures_other_seed_other_figures(x101) -> None:
    inst, sol = x101
    a = evaluate_scenarios(inst, sol, FULL, n=200, seed=1)
    b = evaluate_scenarios(inst, sol, FULL, n=200, seed=1)
    c = evaluate_scenarios(inst, sol, FULL, n=200, seed=2)
    assert a.to_dict() == b.to_dict()
    assert all(np.array_equal(a.samples[k], b.samples[k]) for k in a.samples)
    assert a.cost != c.cost


def test_every_solution_meets_the_same_scenarios(x101) -> None:
    inst, _ = x101
    one = ScenarioSet(inst, parse_noise(FULL), 50, seed=9)
    two = ScenarioSet(inst, parse_noise(FULL), 50, seed=9)
    two.arc(7, 8)  # asking for other arcs first changes nothing
    for i, j in [(3, 4), (0, 17), (17, 0)]:
        assert all(np.array_equal(x, y) for x, y in zip(one.arc(i, j), two.arc(i, j)))
    assert np.array_equal(one.demands, two.demands)
    assert not np.array_equal(one.arc(3, 4)[0], one.arc(4, 3)[0])  # one draw per directed arc


def test_standard_error_shrinks_as_one_over_sqrt_n_and_estimates_converge(x101) -> None:
    inst, sol = x101
    small = evaluate_scenarios(inst, sol, FULL, n=200, seed=4)
    large = evaluate_scenarios(inst, sol, FULL, n=3200, seed=5)
    for name in ("cost", "duration", "failure_rate"):
        se_small, se_large = getattr(small, name + "_se"), getattr(large, name + "_se")
        assert 2.5 < se_small / se_large < 6.0, (name, se_small, se_large)  # sqrt(16) = 4
        diff = abs(getattr(small, name) - getattr(large, name))
        assert diff < 4.0 * math.hypot(se_small, se_large), (name, diff)
    assert 2.0 < small.cost_p95_se / large.cost_p95_se < 8.0


def test_quantile_standard_error_is_about_the_normal_theory_value() -> None:
    x = np.random.default_rng(0).standard_normal(20000)
    # Normal theory: sqrt(p (1 - p) / n) / pdf(z_0.95) = 0.01541 for n = 20000
    assert quantile_se(x) == pytest.approx(0.01541, rel=0.15)


# ---------------------------------------------------------------------------- the sampler
def test_lognormal_factors_have_mean_one_and_the_cv_asked() -> None:
    inst = _tiny()
    s = ScenarioSet(inst, parse_noise("travel=lognormal:0.2"), 40000, seed=1)
    f = np.concatenate([s.arc(1, 2)[0], s.arc(2, 1)[0], s.arc(0, 6)[0]])
    assert f.mean() == pytest.approx(1.0, abs=0.005)
    assert (f.std() / f.mean()) == pytest.approx(0.2, abs=0.005)
    assert (f > 0).all()


def test_incidents_demands_and_congestion() -> None:
    inst = _tiny()
    s = ScenarioSet(inst, parse_noise("incident=0.05:30 demand=normal:0.5"), 40000, seed=2)
    delay = s.arc(3, 4)[1]
    assert set(np.unique(delay)) == {0.0, 30.0} and delay.mean() / 30 == pytest.approx(0.05, abs=0.005)
    assert s.demands.min() >= 0 and s.demands[:, 4].mean() == pytest.approx(6.0, rel=0.03)
    s = ScenarioSet(inst, parse_noise("demand=poisson"), 40000, seed=2)
    assert s.demands[:, 4].mean() == pytest.approx(6.0, rel=0.02) and s.demands[:, 4].var() == pytest.approx(6, rel=0.05)
    c = Congestion((10.0, 50.0), (2.0, 0.5))
    assert [float(c.factor(t)) for t in (0, 9.99, 10, 49, 50, 1e9)] == [1.0, 1.0, 2.0, 2.0, 0.5, 0.5]
    # Only congestion: travel times are deterministic, the factor of the time the arc is entered.
    s = ScenarioSet(inst, NoiseModel(congestion=c), 3)
    assert np.allclose(s.travel_time(0, 1, np.array([0.0, 20.0, 60.0])), [5.0, 10.0, 2.5])


# ---------------------------------------------------------------------------- a plain-Python simulation
def _plain(inst: Instance, sol: Solution, scen: ScenarioSet) -> dict[str, list[float]]:
    """One scenario at a time, one node at a time, floats only: the reference for :func:`simulate`."""
    d, depot = inst.distances, inst.depot
    has_tw = inst.time_windows is not None
    serv = inst.service_times if inst.service_times is not None else np.zeros(inst.n)
    arcs: dict[tuple[int, int], tuple] = {}

    def travel(s: int, i: int, j: int, t: float) -> float:
        if (i, j) not in arcs:
            arcs[(i, j)] = scen.arc(i, j)  # the drawn noise, read like a table
        f, delay = arcs[(i, j)]
        f = f[s] if np.ndim(f) else f
        delay = delay[s] if np.ndim(delay) else delay
        if scen.noise.congestion is not None:
            f = f * scen.noise.congestion.factor(t - scen.clock_start)
        return d[i, j] * f + delay

    out: dict[str, list[float]] = {k: [] for k in ("recourse", "lateness", "on_time", "failed", "duration")}
    for s in range(scen.n):
        rec = late = on_time = failed = duration = 0.0
        for k, route in enumerate(sol.routes):
            cap = inst.capacity_of(k)
            left, fail, t, detour, prev = cap, False, scen.clock_start, 0.0, depot
            for v in route:
                depart = t + serv[prev] + detour
                arrive = depart + travel(s, prev, v, depart)
                if has_tw:
                    late += max(arrive - inst.time_windows[v, 1], 0.0)
                    on_time += arrive <= inst.time_windows[v, 1] + EPS
                    t = max(arrive, inst.time_windows[v, 0])
                else:
                    t = arrive
                detour = 0.0
                q = scen.demands[s, v]
                if q > left + EPS:
                    trips = math.ceil((q - left - EPS) / cap)
                    left = left + trips * cap - q
                    rec += trips * (d[v, depot] + d[depot, v])
                    leave = t + serv[v]
                    there = travel(s, v, depot, leave)
                    detour = trips * (there + travel(s, depot, v, leave + there))
                    fail = True
                else:
                    left = left - q
                prev = v
            end = t + serv[prev] + detour
            if not inst.open_routes:
                end = end + travel(s, prev, depot, end)
                if has_tw:
                    late += max(end - inst.time_windows[depot, 1], 0.0)
            duration += end - scen.clock_start
            failed += fail
        for key, value in zip(out, (rec, late, on_time, failed, duration)):
            out[key].append(value)
    return out


@pytest.mark.parametrize("variant", ["vrptw", "ocvrp", "hcvrp"])
def test_vectorised_simulation_matches_a_plain_python_one(variant: str) -> None:
    if variant == "vrptw":
        inst = _tiny(time_windows=[[3, 150], [0, 30], [10, 40], [0, 25], [15, 60], [0, 100], [5, 35]])
    else:
        kw = {"time_windows": None, "service_times": None}
        kw.update({"open_routes": True} if variant == "ocvrp" else
                  {"capacity": None, "vehicle_capacities": [10.0, 14.0, 6.0]})
        inst = _tiny(**kw)
    assert inst.variant == variant
    scen = ScenarioSet(inst, parse_noise(FULL), 300, seed=11)
    vec = simulate(inst, TINY_ROUTES, scen)
    ref = _plain(inst, TINY_ROUTES, scen)
    assert vec.failed_routes.sum() > 20 and vec.recourse.max() > 0  # the recourse path is exercised
    for mine, theirs in ((vec.recourse, "recourse"), (vec.lateness, "lateness"), (vec.on_time, "on_time"),
                         (vec.failed_routes, "failed"), (vec.duration, "duration")):
        assert np.array_equal(mine, np.array(ref[theirs])), theirs  # exactly, draw for draw
    if variant == "vrptw":
        assert 0 < vec.on_time.mean() < len(TINY_ROUTES.visited) and vec.lateness.max() > 0


# ---------------------------------------------------------------------------- recourse by hand
def _line(**changes) -> Instance:
    # depot 0, customer 1 at distance 5, customer 2 at distance 10 from the depot and 5 from 1
    kw = dict(name="line", coords=[[0, 0], [3, 4], [6, 8]], distances=None, rounding="exact",
              metric="euclidean", demands=[0, 6, 4], capacity=10.0)
    kw.update(changes)
    return Instance(**kw)


def test_detour_to_depot_recourse_by_hand() -> None:
    inst = _line()
    scen = ScenarioSet(inst, NoiseModel(demand="poisson"), 4)
    scen.demands = np.array([[0, 6, 4],    # exactly full at 2: no failure
                             [0, 8, 4],    # 2 left at customer 2: one return, 10 + 10
                             [0, 6, 15],   # 4 left, 15 wanted: two returns, 2 x 20
                             [0, 12, 0]])  # fails at customer 1: one return, 5 + 5
    out = simulate(inst, Solution([[1, 2]]), scen)
    assert out.recourse.tolist() == [0.0, 20.0, 40.0, 10.0]
    assert out.failed_routes.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert out.duration.tolist() == [20.0, 40.0, 60.0, 30.0]  # travel time = distance, detours included
    # open routes pay the same returns, but not the final leg home
    out = simulate(_line(open_routes=True), Solution([[1, 2]]), scen)
    assert out.recourse.tolist() == [0.0, 20.0, 40.0, 10.0] and out.duration.tolist() == [10.0, 30.0, 50.0, 20.0]


def test_overloaded_plan_pays_its_return_in_every_scenario_and_hcvrp_uses_route_k_capacity() -> None:
    res = evaluate_scenarios(_line(demands=[0, 6, 6]), Solution([[1, 2]]), None, n=3)
    assert res.base == 20 and res.recourse == 20 and res.cost == 40 and res.failure_rate == 1.0
    hc = _line(capacity=None, vehicle_capacities=[7.0, 4.0], demands=[0, 6, 4])
    assert evaluate_scenarios(hc, Solution([[1], [2]]), None, n=2).failure_rate == 0.0
    swapped = evaluate_scenarios(hc, Solution([[2], [1]]), None, n=2)  # vehicle 1 (capacity 4) serves 6
    assert swapped.failure_rate == 0.5 and swapped.recourse == 10


def test_lateness_penalty_is_added_and_shown_apart() -> None:
    inst = _line(time_windows=[[0, 100], [0, 3], [0, 100]], service_times=[0, 1, 1])
    plain = evaluate_scenarios(inst, Solution([[1, 2]]), None, n=2)
    paid = evaluate_scenarios(inst, Solution([[1, 2]]), None, n=2, lateness_penalty=4.0)
    assert plain.lateness == 2.0 and plain.cost == 20.0  # arrives at 5, due 3
    assert paid.lateness_cost == 8.0 and paid.cost == 28.0 and paid.duration_deterministic == 22.0


# ---------------------------------------------------------------------------- specs and errors
def test_noise_specs_round_trip_and_aliases() -> None:
    m = parse_noise(["travel=lognormal:0.2", "congestion=0:1.3,120:1", "incident=0.05:30", "demand=normal:0.1"])
    assert m.travel_cv == 0.2 and m.congestion.factors == (1.3, 1.0) and m.incident_delay == 30
    assert parse_noise(m.spec()) == m
    assert parse_noise("travel=congestion:0:2 travel=incident:0.1:5") == NoiseModel(
        congestion=Congestion((0.0,), (2.0,)), incident_probability=0.1, incident_delay=5.0)
    assert parse_noise(None) == parse_noise("none") == NoiseModel() and NoiseModel().spec() == "none"


@pytest.mark.parametrize(("spec", "message"), [
    ("travel=lognormal:-0.1", "travel_cv: must be a number >= 0, got -0.1"),
    ("travel=lognormal:x", "expected a number"),
    ("travel=gamma:0.2", "unknown travel noise 'gamma'"),
    ("weather=rain", "expected KIND=VALUE"),
    ("demand=binomial", "unknown demand noise"),
    ("incident=2:30", "incident_probability: must be in [0, 1]"),
    ("incident=0.1", "PROBABILITY:DELAY"),
    ("congestion=10:0", "factors must be positive"),
    ("congestion=50:1,10:2", "must increase"),
    ("travel=lognormal:0.1 travel=lognormal:0.2", "given twice"),
])
def test_bad_specs_name_the_field_and_value(spec: str, message: str) -> None:
    with pytest.raises(NoiseError, match=None) as err:
        parse_noise(spec)
    assert message in str(err.value)


def test_bad_requests() -> None:
    tsp = generate("tsp", 5, seed=0)
    sol = Solution([[1, 2, 3, 4]])
    with pytest.raises(NoiseError, match="demand=poisson: variant tsp has no demands"):
        evaluate_scenarios(tsp, sol, "demand=poisson", n=5)
    with pytest.raises(NoiseError, match="scenarios: must be a positive integer, got 0"):
        evaluate_scenarios(tsp, sol, None, n=0)
    with pytest.raises(NoiseError, match="seed"):
        evaluate_scenarios(tsp, sol, None, n=5, seed=-1)
    with pytest.raises(NoiseError, match="lateness_penalty"):
        evaluate_scenarios(tsp, sol, None, n=5, lateness_penalty=-1.0)


# ---------------------------------------------------------------------------- robust planning
def test_buffered_instance() -> None:
    inst = _tiny()
    b = buffered(inst, capacity_slack=0.1, tw_slack=0.05)
    assert b.capacity == 9.0 and buffered(inst, capacity_slack=0.9).capacity == 6.0  # not below the largest demand
    shift = 0.05 * 200
    tw, btw = inst.time_windows, b.time_windows
    assert np.array_equal(btw[:, 0], tw[:, 0]) and (btw[:, 1] <= tw[:, 1]).all()
    assert btw[2, 1] == 40 - shift and btw[0, 1] == 200 - shift
    assert (btw[:, 1] >= np.maximum(tw[:, 0], inst.distances[0])).all()  # every customer still reachable
    assert buffered(inst) is inst
    hc = buffered(_line(capacity=None, vehicle_capacities=[7.0, 20.0]), capacity_slack=0.5)
    assert hc.vehicle_capacities.tolist() == [6.0, 10.0]
    with pytest.raises(ValueError, match="capacity_slack: must be a fraction in"):
        buffered(inst, capacity_slack=1.0)
    with pytest.raises(ValueError, match="tw_slack"):
        buffered(inst, tw_slack=-0.1)
