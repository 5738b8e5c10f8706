"""Routing under uncertainty: a plan scored on many sampled days, beside the one evaluator.

:func:`evaluate_scenarios` takes an instance, a solution and a :class:`NoiseModel` and
simulates the solution on ``n`` sampled scenarios (realised days). The deterministic part
(distance, objective, violations) comes from :func:`vrp.evaluate.evaluate`, which stays the
one place a deterministic cost is computed; this module adds what noise changes.

Noise (:func:`parse_noise` reads the command-line form; times are in the instance's units,
and travel time equals distance in our model):

=============================  ==========================================================
``travel=lognormal:CV``        every arc's travel time times a log-normal factor with mean
                               1 and coefficient of variation CV (the expected travel time
                               is the deterministic one)
``congestion=T:F,T:F,...``     time-of-day factors: from T time units after the clock start
                               on, travel times are multiplied by F (1 before the first T);
                               the clock starts at the depot's ready time (0 without time
                               windows); an arc takes the factor of the time it is entered
``incident=P:DELAY``           each arc traversal is hit by an incident with probability P,
                               which adds DELAY time units
``demand=poisson``             realised demand ~ Poisson(forecast)
``demand=normal:CV``           realised demand ~ Normal(forecast, CV x forecast), cut at 0
=============================  ==========================================================

(``travel=congestion:...`` and ``travel=incident:...`` are accepted too.)

A scenario is a realised day of the *instance*, not of a solution: each arc has one
travel-time factor and one incident draw per scenario, each customer one realised demand,
whatever route drives it. Arc draws come from a counter-based generator keyed by
(seed, scenario, arc), so every solution of an instance meets the same scenarios and a
solution's simulation touches only the arcs it uses.

Recourse policy: the classic *detour-to-depot* (failure) recourse of the stochastic VRP
(Dror & Trudeau 1986; Gendreau, Laporte & Séguin 1996), without preventive restocking. A
vehicle leaves the depot full (``capacity``; hcvrp: route k has vehicle k's capacity) and
visits its customers in the planned order. When a customer's realised demand exceeds what
is left on board (a *route failure*), it delivers what it has, drives to the depot and
back, and delivers the rest (as many round trips as needed); each round trip adds
``d(i, depot) + d(depot, i)`` to the distance (the *recourse* distance). The round trips
happen after the service time at ``i``; their travel times are noisy like any other arc.

Each scenario's cost is the deterministic objective (distance; pctsp: plus the penalties
of skipped nodes; op: the distance, since the collected prize does not change) plus the
recourse distance plus ``lateness_penalty`` per time unit of lateness (default 0, reported
apart). Travel-time noise therefore moves the cost only through lateness; it always shows
in the route *duration* (travel, waiting and service times, from the clock start until the
vehicle is back at the depot; open routes end after their last service).

Time windows follow the evaluator: a vehicle waits for a window to open and is late when
it arrives after it closes; lateness is the time after the due time at each customer plus,
for closed routes, the time after the depot closes at the return. The on-time rate is the
share of visited customers reached before their due time.

With no noise (an empty :class:`NoiseModel`) every scenario is the deterministic day: the
cost is the evaluator's objective exactly, for any capacity-feasible solution (a route the
evaluator finds overloaded fails in every scenario and pays its recourse).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vrp.evaluate import EPS, Score, evaluate
from vrp.model import Instance, Solution

NOISE_KEYS = ("travel", "congestion", "incident", "demand")
DEMAND_KINDS = ("poisson", "normal")
Z95 = 1.959963984540054

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAMS = 4  # per arc and scenario: two uniforms for the log-normal factor, one for incidents, one spare


class NoiseError(ValueError):
    """A noise specification or a scenario request is invalid; the message names field and value."""


# ---------------------------------------------------------------------------- noise models
@dataclass(frozen=True)
class Congestion:
    """Time-of-day travel-time factors: ``factors[k]`` from ``starts[k]`` time units on.

    Times count from the clock start (the depot's ready time); before ``starts[0]`` the
    factor is 1.
    """

    starts: tuple[float, ...]
    factors: tuple[float, ...]

    def __post_init__(self) -> None:
        starts = tuple(float(t) for t in self.starts)
        factors = tuple(float(f) for f in self.factors)
        if not starts or len(starts) != len(factors):
            raise NoiseError(f"congestion: need one factor per start time, got {len(starts)} starts and "
                             f"{len(factors)} factors")
        for t in starts:
            if not (math.isfinite(t) and t >= 0):
                raise NoiseError(f"congestion: start times must be >= 0, got {t:g}")
        if any(b <= a for a, b in zip(starts, starts[1:])):
            raise NoiseError(f"congestion: start times must increase, got {', '.join(f'{t:g}' for t in starts)}")
        for f in factors:
            if not (math.isfinite(f) and f > 0):
                raise NoiseError(f"congestion: factors must be positive, got {f:g}")
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "factors", factors)

    def factor(self, t: Any) -> Any:
        """The factor at ``t`` time units after the clock start (array or scalar)."""
        idx = np.searchsorted(np.asarray(self.starts), t, side="right") - 1
        table = np.asarray((1.0, *self.factors))
        return table[idx + 1]

    def spec(self) -> str:
        return ",".join(f"{t:g}:{f:g}" for t, f in zip(self.starts, self.factors))


@dataclass(frozen=True)
class NoiseModel:
    """What varies from day to day. The default (all zero) is the deterministic day.

    Attributes
    ----------
    travel_cv
        Coefficient of variation of the log-normal travel-time factor of every arc
        (mean 1); 0 = no such noise.
    congestion
        Time-of-day factors (:class:`Congestion`), or None.
    incident_probability, incident_delay
        Per arc traversal, the probability of an incident and the delay it adds (time units).
    demand
        ``"poisson"``, ``"normal"`` or None (demands as forecast).
    demand_cv
        Coefficient of variation of normal demands (``demand="normal"`` only).
    """

    travel_cv: float = 0.0
    congestion: Congestion | None = None
    incident_probability: float = 0.0
    incident_delay: float = 0.0
    demand: str | None = None
    demand_cv: float = 0.0

    def __post_init__(self) -> None:
        for name in ("travel_cv", "incident_probability", "incident_delay", "demand_cv"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise NoiseError(f"{name}: must be a number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.incident_probability > 1:
            raise NoiseError(f"incident_probability: must be in [0, 1], got {self.incident_probability:g}")
        if self.demand is not None and self.demand not in DEMAND_KINDS:
            raise NoiseError(f"demand: must be one of {', '.join(DEMAND_KINDS)} or None, got {self.demand!r}")
        if self.demand_cv and self.demand != "normal":
            raise NoiseError(f"demand_cv: only normal demands have a CV, got {self.demand_cv:g} with "
                             f"demand={self.demand!r}")

    @property
    def travel(self) -> bool:
        """Whether travel times vary at all."""
        return self.travel_cv > 0 or self.congestion is not None or self.incident_probability > 0

    def spec(self) -> str:
        """The command-line form (``parse_noise(model.spec().split())`` gives the model back)."""
        parts = []
        if self.travel_cv:
            parts.append(f"travel=lognormal:{self.travel_cv:g}")
        if self.congestion is not None:
            parts.append(f"congestion={self.congestion.spec()}")
        if self.incident_probability:
            parts.append(f"incident={self.incident_probability:g}:{self.incident_delay:g}")
        if self.demand == "poisson":
            parts.append("demand=poisson")
        elif self.demand == "normal":
            parts.append(f"demand=normal:{self.demand_cv:g}")
        return " ".join(parts) or "none"

    def check(self, instance: Instance) -> None:
        """Raise :class:`NoiseError` when the model does not apply to ``instance``."""
        if self.demand is not None and instance.demands is None:
            raise NoiseError(f"demand={self.demand}: variant {instance.variant} has no demands")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise NoiseError(f"{what}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise NoiseError(f"{what}: expected a finite number, got {text!r}")
    return value


def _parse_congestion(text: str) -> Congestion:
    starts, factors = [], []
    for pair in text.split(","):
        t, colon, f = pair.partition(":")
        if not colon:
            raise NoiseError(f"congestion: expected START:FACTOR pairs separated by commas, got {pair!r}")
        starts.append(_number(t, "congestion start"))
        factors.append(_number(f, "congestion factor"))
    return Congestion(tuple(starts), tuple(factors))


def _parse_one(key: str, value: str, out: dict[str, Any]) -> None:
    kind, _, rest = value.partition(":")
    if key == "travel" and kind in ("congestion", "incident"):
        key, value = kind, rest
    if key == "travel":
        if kind != "lognormal":
            raise NoiseError(f"unknown travel noise {kind!r} (valid: lognormal:CV, congestion:T:F,..., "
                             "incident:P:DELAY)")
        out["travel_cv"] = _number(rest, "travel CV")
    elif key == "congestion":
        out["congestion"] = _parse_congestion(value)
    elif key == "incident":
        p, colon, delay = value.partition(":")
        if not colon:
            raise NoiseError(f"incident: expected PROBABILITY:DELAY, got {value!r}")
        out["incident_probability"] = _number(p, "incident probability")
        out["incident_delay"] = _number(delay, "incident delay")
    else:  # demand
        if kind == "poisson" and not rest:
            out["demand"] = "poisson"
        elif kind == "normal":
            out["demand"] = "normal"
            out["demand_cv"] = _number(rest, "demand CV")
        else:
            raise NoiseError(f"unknown demand noise {value!r} (valid: poisson, normal:CV)")


def parse_noise(specs: str | Sequence[str] | None) -> NoiseModel:
    """A :class:`NoiseModel` from command-line specs (``["travel=lognormal:0.2", "demand=poisson"]``).

    A single string may hold several specs separated by spaces; ``none`` (or nothing)
    is the deterministic day. Each kind may be given once.
    """
    if specs is None:
        return NoiseModel()
    items = specs.split() if isinstance(specs, str) else [s for spec in specs for s in spec.split()]
    fields_: dict[str, Any] = {}
    seen: set[str] = set()
    for item in items:
        if item == "none":
            continue
        key, eq, value = item.partition("=")
        if not eq or key not in NOISE_KEYS or not value:
            raise NoiseError(f"noise {item!r}: expected KIND=VALUE with KIND one of {', '.join(NOISE_KEYS)}")
        kind = value.partition(":")[0] if key == "travel" and value.startswith(("congestion", "incident")) else key
        if kind in seen:
            raise NoiseError(f"noise {item!r}: {kind} noise given twice")
        seen.add(kind)
        try:
            _parse_one(key, value, fields_)
        except NoiseError as exc:
            raise NoiseError(f"noise {item!r}: {exc}") from None
    try:
        return NoiseModel(**fields_)
    except NoiseError as exc:
        raise NoiseError(f"noise {' '.join(items)!r}: {exc}") from None


# ---------------------------------------------------------------------------- sampling
def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def _uniform(key: np.uint64, counter: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1) from a counter-based generator: SplitMix64 output number ``counter``."""
    x = _mix(key + counter * _GAMMA)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise NoiseError(f"seed: must be an integer >= 0, got {seed!r}")
    return int(seed)


class ScenarioSet:
    """``n`` sampled days of one instance under a noise model.

    The draws do not depend on any solution: :meth:`arc` gives the travel-time factor
    and incident delay of one arc in every scenario (the same arc, the same values,
    whichever route asks), :attr:`demands` the realised demand of every node.
    """

    def __init__(self, instance: Instance, noise: NoiseModel, n: int, seed: int = 0) -> None:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise NoiseError(f"scenarios: must be a positive integer, got {n!r}")
        noise.check(instance)
        self.instance = instance
        self.noise = noise
        self.n = int(n)
        self.seed = _check_seed(seed)
        self.clock_start = float(instance.time_windows[instance.depot, 0]) if instance.time_windows is not None \
            else 0.0
        self._key = np.random.SeedSequence([self.seed, 0]).generate_state(1, np.uint64)[0]
        nodes = instance.n
        self._counter = np.arange(self.n, dtype=np.uint64) * np.uint64(nodes * nodes * _STREAMS)
        self._sigma = math.sqrt(math.log1p(noise.travel_cv**2))
        #: ``(n, nodes)`` realised demands, or None when demands are as forecast.
        self.demands: np.ndarray | None = None
        if noise.demand is not None:
            assert instance.demands is not None
            rng = np.random.default_rng([self.seed, 1])
            q = np.asarray(instance.demands, dtype=float)
            if noise.demand == "poisson":
                drawn = rng.poisson(q, size=(self.n, nodes)).astype(float)
            else:
                drawn = np.maximum(q + noise.demand_cv * q * rng.standard_normal((self.n, nodes)), 0.0)
            drawn.setflags(write=False)
            self.demands = drawn

    def arc(self, i: int, j: int) -> tuple[Any, Any]:
        """Travel-time factor (log-normal) and incident delay of arc ``(i, j)``, per scenario.

        Plain floats 1.0 and 0.0 when that noise is off, so that the deterministic day
        is computed with the evaluator's exact arithmetic.
        """
        noise = self.noise
        factor: Any = 1.0
        delay: Any = 0.0
        if noise.travel_cv == 0 and noise.incident_probability == 0:
            return factor, delay
        base = self._counter + np.uint64((i * self.instance.n + j) * _STREAMS)
        if noise.travel_cv > 0:
            u1 = _uniform(self._key, base)
            u2 = _uniform(self._key, base + np.uint64(1))
            z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller
            factor = np.exp(self._sigma * z - 0.5 * self._sigma**2)
        if noise.incident_probability > 0:
            hit = _uniform(self._key, base + np.uint64(2)) < noise.incident_probability
            delay = np.where(hit, noise.incident_delay, 0.0)
        return factor, delay

    def travel_time(self, i: int, j: int, depart: Any) -> Any:
        """Realised travel time of arc ``(i, j)`` entered at time ``depart``, per scenario."""
        factor, delay = self.arc(i, j)
        if self.noise.congestion is not None:
            factor = factor * self.noise.congestion.factor(depart - self.clock_start)
        return self.instance.distances[i, j] * factor + delay

    def demand(self, node: int) -> Any:
        """Realised demand of ``node`` per scenario (the forecast when demands do not vary)."""
        if self.demands is None:
            assert self.instance.demands is not None
            return float(self.instance.demands[node])
        return self.demands[:, node]


# ---------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class Outcome:
    """Per-scenario totals of one solution (arrays of length ``n``)."""

    recourse: np.ndarray      # recourse distance of the forced returns to the depot
    lateness: np.ndarray      # time units late, customers and depot returns
    on_time: np.ndarray       # customers reached by their due time
    failed_routes: np.ndarray  # routes with at least one failure
    duration: np.ndarray      # sum over routes of travel + waiting + service times
    customers: int            # visited customers
    routes: int               # non-empty routes


def _route_capacity(instance: Instance, k: int) -> float:
    if instance.demands is None:
        return math.inf
    if instance.vehicle_capacities is not None and k >= instance.vehicle_capacities.size:
        return math.inf  # no such vehicle: the evaluator reports the fleet violation
    return instance.capacity_of(k)


def simulate(instance: Instance, solution: Solution, scenarios: ScenarioSet) -> Outcome:
    """Drive every route through every scenario at once (numpy over scenarios, a loop over nodes)."""
    n = scenarios.n
    depot = instance.depot
    dist = instance.distances
    has_tw = instance.time_windows is not None
    if has_tw:
        assert instance.time_windows is not None
        ready, due = instance.time_windows[:, 0], instance.time_windows[:, 1]
    service = instance.service_times if instance.service_times is not None else np.zeros(instance.n)
    t0 = scenarios.clock_start
    recourse, lateness, on_time = np.zeros(n), np.zeros(n), np.zeros(n)
    failed, duration = np.zeros(n), np.zeros(n)
    customers = routes = 0
    for k, route in enumerate(solution.routes):
        if not route:
            continue
        routes += 1
        customers += len(route)
        cap = _route_capacity(instance, k)
        left: Any = np.full(n, cap)
        fail = np.zeros(n, dtype=bool)
        t: Any = np.full(n, t0)  # start of service at the current node
        detour: Any = 0.0  # time of the round trips to the depot made at the current node
        prev = depot
        for v in route:
            depart = t + service[prev] + detour
            arrive = depart + scenarios.travel_time(prev, v, depart)
            if has_tw:
                lateness += np.maximum(arrive - due[v], 0.0)
                on_time += arrive <= due[v] + EPS
                t = np.maximum(arrive, ready[v])
            else:
                t = arrive
            detour = 0.0
            if math.isfinite(cap):
                q = scenarios.demand(v)
                over = q > left + EPS
                if over.any():
                    trips = np.where(over, np.ceil((q - left - EPS) / cap), 0.0)
                    left = left + trips * cap - q
                    recourse += trips * (dist[v, depot] + dist[depot, v])
                    leave = t + service[v]
                    out = scenarios.travel_time(v, depot, leave)
                    back = scenarios.travel_time(depot, v, leave + out)
                    detour = trips * (out + back)
                    fail |= over
                else:
                    left = left - q
            prev = v
        end = t + service[prev] + detour
        if not instance.open_routes:
            end = end + scenarios.travel_time(prev, depot, end)
            if has_tw:
                lateness += np.maximum(end - due[depot], 0.0)
        duration += end - t0
        failed += fail
    return Outcome(recourse, lateness, on_time, failed, duration, customers, routes)


# ---------------------------------------------------------------------------- estimates
def _constant(x: np.ndarray) -> bool:
    return bool((x == x[0]).all())


def _mean(x: np.ndarray) -> float:
    # A mean of n equal floats need not be that float: keep the deterministic day exact.
    return float(x[0]) if _constant(x) else float(x.mean())


def _se(x: np.ndarray) -> float:
    if x.size < 2:
        return math.nan
    return 0.0 if _constant(x) else float(np.std(x, ddof=1) / math.sqrt(x.size))


def quantile_se(values: np.ndarray, q: float = 0.95) -> float:
    """Standard error of the ``q`` quantile, distribution-free.

    Half the width of the order-statistic 95 % confidence interval of the quantile
    (ranks ``n q -/+ 1.96 sqrt(n q (1 - q))``), divided by 1.96.
    """
    x = np.sort(values)
    n = x.size
    if n < 2:
        return math.nan
    half = Z95 * math.sqrt(n * q * (1 - q))
    lo = int(max(0, math.floor(n * q - half)))
    hi = int(min(n - 1, math.ceil(n * q + half)))
    return float((x[hi] - x[lo]) / (2 * Z95))


@dataclass(frozen=True)
class ScenarioScore:
    """What a solution is worth over ``scenarios`` sampled days (means, with their standard errors).

    ``base`` is the deterministic figure each scenario starts from (the evaluator's
    objective; op: its distance). ``cost = base + recourse + lateness_penalty x lateness``,
    averaged. Rates are shares in [0, 1]; ``on_time_rate`` is None without time windows,
    ``failure_rate`` None without demands. A standard error is NaN for one scenario.
    """

    deterministic: Score
    noise: NoiseModel
    scenarios: int
    seed: int
    lateness_penalty: float
    base: float
    cost: float
    cost_se: float
    cost_p95: float
    cost_p95_se: float
    recourse: float
    recourse_se: float
    lateness: float
    lateness_se: float
    on_time_rate: float | None
    on_time_rate_se: float | None
    failure_rate: float | None
    failure_rate_se: float | None
    duration: float
    duration_se: float
    duration_p95: float
    duration_deterministic: float
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def lateness_cost(self) -> float:
        return self.lateness_penalty * self.lateness

    @property
    def degradation_pct(self) -> float:
        """How much the expected cost exceeds the deterministic one, in percent."""
        return 100.0 * (self.cost / self.base - 1.0) if self.base else math.nan

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready numbers (NaN as None), without the deterministic score."""
        out: dict[str, Any] = {"scenarios": self.scenarios, "seed": self.seed, "noise": self.noise.spec(),
                               "lateness_penalty": self.lateness_penalty}
        for name in ("base", "cost", "cost_se", "cost_p95", "cost_p95_se", "recourse", "recourse_se",
                     "lateness", "lateness_se", "lateness_cost", "on_time_rate", "on_time_rate_se",
                     "failure_rate", "failure_rate_se", "degradation_pct", "duration", "duration_se",
                     "duration_p95", "duration_deterministic"):
            value = getattr(self, name)
            out[name] = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        return out


def evaluate_scenarios(instance: Instance, solution: Solution, noise: NoiseModel | str | Sequence[str] | None,
                       n: int = 1000, seed: int = 0, *, lateness_penalty: float = 0.0,
                       deterministic: Score | None = None) -> ScenarioScore:
    """Score ``solution`` on ``n`` scenarios of ``instance`` drawn under ``noise`` with ``seed``.

    Parameters
    ----------
    instance, solution
        As for :func:`vrp.evaluate.evaluate`, which gives the deterministic part.
    noise
        A :class:`NoiseModel`, or command-line specs for :func:`parse_noise`.
    n, seed
        Number of scenarios and their seed: the same seed gives the same scenarios
        (and the same figures) for every solution of the instance.
    lateness_penalty
        Cost per time unit of lateness added to each scenario's cost (default 0).
    deterministic
        The evaluator's score of this solution when the caller already has it.

    Returns
    -------
    ScenarioScore
        Raises :class:`NoiseError` for a bad request (``n < 1``, demand noise on a
        variant without demands, a negative penalty).
    """
    model = noise if isinstance(noise, NoiseModel) else parse_noise(noise)
    if not (math.isfinite(lateness_penalty) and lateness_penalty >= 0):
        raise NoiseError(f"lateness_penalty: must be a number >= 0, got {lateness_penalty!r}")
    scenarios = ScenarioSet(instance, model, n, seed)
    score = deterministic if deterministic is not None else evaluate(instance, solution)
    base = score.objective if score.sense == "min" else score.cost
    out = simulate(instance, solution, scenarios)
    plain = simulate(instance, solution, ScenarioSet(instance, NoiseModel(), 1))
    # Means and quantiles of what noise adds, then the base: with no noise the cost is the
    # evaluator's objective to the last bit.
    extra = out.recourse + lateness_penalty * out.lateness
    cost = base + extra
    on_time = out.on_time / out.customers if instance.time_windows is not None and out.customers else None
    failures = out.failed_routes / out.routes if instance.demands is not None and out.routes else None
    return ScenarioScore(
        deterministic=score, noise=model, scenarios=scenarios.n, seed=scenarios.seed,
        lateness_penalty=float(lateness_penalty), base=float(base),
        cost=float(base + _mean(extra)), cost_se=_se(extra),
        cost_p95=float(base + np.percentile(extra, 95)), cost_p95_se=quantile_se(extra),
        recourse=_mean(out.recourse), recourse_se=_se(out.recourse),
        lateness=_mean(out.lateness), lateness_se=_se(out.lateness),
        on_time_rate=None if on_time is None else _mean(on_time),
        on_time_rate_se=None if on_time is None else _se(on_time),
        failure_rate=None if failures is None else _mean(failures),
        failure_rate_se=None if failures is None else _se(failures),
        duration=_mean(out.duration), duration_se=_se(out.duration),
        duration_p95=float(np.percentile(out.duration, 95)),
        duration_deterministic=float(plain.duration[0]),
        samples={"cost": cost, "recourse": out.recourse, "lateness": out.lateness, "duration": out.duration},
    )


# ---------------------------------------------------------------------------- robust planning
def check_slack(name: str, value: float) -> float:
    """A planning buffer is a fraction in [0, 1); raise ValueError naming the field otherwise."""
    if not isinstance(value, int | float) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name}: must be a fraction in [0, 1), got {value!r}")
    return float(value)


def buffered(instance: Instance, capacity_slack: float = 0.0, tw_slack: float = 0.0) -> Instance:
    """The instance a robust plan is made on: less capacity, earlier due times.

    ``capacity_slack`` plans with ``capacity x (1 - slack)`` (every vehicle of a
    heterogeneous fleet), never below the largest demand a vehicle could carry;
    ``tw_slack`` moves every due time earlier by ``slack x horizon`` (horizon = the
    depot's due minus its ready time), never below the node's ready time nor below
    what a lone visit from the depot needs, so that the plan stays possible. A
    solution of the buffered instance is a solution of the real one; the evaluator
    scores it on the real one. No slack returns ``instance`` itself.
    """
    capacity_slack = check_slack("capacity_slack", capacity_slack)
    tw_slack = check_slack("tw_slack", tw_slack)
    changes: dict[str, Any] = {}
    if capacity_slack and instance.demands is not None:
        biggest = float(instance.demands.max())
        if instance.vehicle_capacities is not None:
            caps = instance.vehicle_capacities
            changes["vehicle_capacities"] = np.maximum(caps * (1.0 - capacity_slack), np.minimum(caps, biggest))
        else:
            assert instance.capacity is not None
            changes["capacity"] = max(instance.capacity * (1.0 - capacity_slack), biggest)
    if tw_slack and instance.time_windows is not None:
        tw = np.array(instance.time_windows, dtype=float)
        depot = instance.depot
        dist = instance.distances
        service = instance.service_times if instance.service_times is not None else np.zeros(instance.n)
        shift = tw_slack * (tw[depot, 1] - tw[depot, 0])
        earliest = np.maximum(tw[:, 0], tw[depot, 0] + service[depot] + dist[depot])
        due = np.minimum(tw[:, 1], np.maximum(tw[:, 1] - shift, earliest))
        others = np.arange(instance.n) != depot
        back = (np.minimum(earliest, due) + service + dist[:, depot])[others]
        need = float(back.max()) if back.size else tw[depot, 0]
        due[depot] = min(tw[depot, 1], max(tw[depot, 1] - shift, need, tw[depot, 0]))
        tw[:, 1] = due
        changes["time_windows"] = tw
    return instance.replace(**changes) if changes else instance
