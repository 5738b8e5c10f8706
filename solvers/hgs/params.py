"""Parameters of the hybrid genetic search (``ga``) and their validation."""

from __future__ import annotations

from dataclasses import dataclass

from vrp.result import SolverError
from vrp.scenarios import check_slack
from vrp.stop import check_iteration_limits

STRATEGIES = ("auto", "ga", "ils", "tour")


@dataclass
@dataclass
class Params:
    """Parameters of the hybrid genetic search (defaults after HGS-CVRP).

    Attributes
    ----------
    strategy
        ``ga`` (the population), ``ils`` (one trajectory, late acceptance), ``tour`` (a
        symmetric tsp only: 2-opt/Or-opt with double-bridge kicks, ``TOUR_KICKS`` an
        iteration) or ``auto``: above ``mutation_from`` customers ``tour`` on a symmetric
        tsp, ``ga`` on atsp and ``ils`` on the rest; ``ga`` below.
    history
        Late-acceptance history length of ``ils`` (PyVRP's default, 300).
    max_iterations
        Stop after this many offspring (``ils``: steps) (None: no limit). With a seed this
        makes the run deterministic.
    no_improvement
        Stop after this many offspring without a better feasible solution (None: never).
    pop_size
        Minimum subpopulation size mu.
    generation_size
        Offspring lambda added before survivors are selected.
    nb_elite
        Elite individuals protected by the biased fitness.
    nb_close
        Neighbours averaged in the diversity contribution.
    granular
        Neighbours per customer in the local search.
    max_segment
        Longest segment the local search relocates (Or-opt length), 1..3.
    target_feasible
        Target fraction of feasible offspring for the penalty controller.
    repair_probability
        Probability to repair an infeasible offspring with ten-fold penalties.
    restart_after
        Restart the population after this many iterations without improvement (``ils``:
        go back to the best solution and forget the history). None: 20000 (``ga``), ten
        steps per customer (``ils``: on clustered CVRPs of 500-800 customers its walk
        wanders off and stalls for tens of seconds; this took its 30 s objective summed over
        three of them from 0.2 % to 0.5 % below ``pyvrp``'s; five steps per customer, or a
        flat 3000, did a little more there but cost 0.1-0.15 % on X-n401 or a uniform 1000 at 60 s).
    mutation
        Probability that an offspring is a parent ruined and recreated (a string of
        ``ruin_min`` to ``ruin_max`` neighbouring customers taken out and put back at
        their cheapest places) and educated by a search that starts from those customers,
        instead of a crossover child educated by a search over every customer. At 1000
        nodes the first costs a few milliseconds, the second a tenth of a second.
        None: 0 up to ``mutation_from`` customers, 0.9 above (0 for tsp/atsp).
    mutation_from
        Customers above which ``mutation=None`` mutates.
    ruin_min, ruin_max
        Customers taken out by a mutation or an ``ils`` step (uniform between the two; 5-10
        beat 5-25 and 5-15 on X-n502 and X-n1001 at 10 s and on X-n401 and X-n502 at 60 s).
    ruin_swap_star
        Whether the search after a mutation tries SWAP* (two thirds of its time at 1000
        nodes when it does).
    ruin_best
        Probability that a mutation ruins the best feasible solution found so far instead
        of a parent chosen by binary tournament (0: never, and no random number is drawn
        for it, so the search is the same as without the option).
    init_share
        Most of the time limit the initial population may take (at least two
        individuals are made): at 1000 nodes its 4 x ``pop_size`` educations from
        random tours took longer than a 10 s limit.
    capacity_slack, tw_slack
        Robust planning buffers, fractions in [0, 1): plan with ``capacity x (1 -
        capacity_slack)`` and with every due time ``tw_slack x horizon`` earlier (horizon
        = the depot's due minus ready time), see :func:`vrp.scenarios.buffered`. The
        solution is scored on the real instance; 0 plans on it as it is.
    init
        A neural solver (``am:50``, ``am:mtvrp20``, ``pomo:<checkpoint>``, ...) whose sampled
        solutions seed the initial population (EARLI-style RL initialisation); None: random
        tours only. The sampling counts in the time limit; the checkpoint is loaded and its
        sampling speed measured in :meth:`HGSSolver.warmup`.
    init_samples
        Rollouts sampled in one batched forward pass for ``init``; the allowed distinct ones
        are educated by the local search and inserted (they replace as many random tours).
    init_time
        Most of the time limit the sampling may take (its number of samples is cut to fit,
        down to none); not applied under an iteration limit, where all ``init_samples`` are
        drawn so that the same seed gives the same solution on any machine.
    """

    strategy: str = "auto"
    history: int = 300
    max_iterations: int | None = None
    no_improvement: int | None = None
    pop_size: int = 25
    generation_size: int = 40
    nb_elite: int = 4
    nb_close: int = 5
    granular: int = 20
    max_segment: int = 3
    target_feasible: float = 0.2
    repair_probability: float = 0.5
    restart_after: int | None = None
    mutation: float | None = None
    mutation_from: int = 300
    ruin_min: int = 5
    ruin_max: int = 10
    ruin_swap_star: bool = True
    ruin_best: float = 0.0
    init_share: float = 0.2
    capacity_slack: float = 0.0
    tw_slack: float = 0.0
    init: str | None = None
    init_samples: int = 64
    init_time: float = 0.3

    def __post_init__(self) -> None:
        check_iteration_limits(self.max_iterations, self.no_improvement)
        self.strategy = str(self.strategy).lower()
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy: must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.history < 1:
            raise ValueError(f"history: must be >= 1, got {self.history}")
        check_slack("capacity_slack", self.capacity_slack)
        check_slack("tw_slack", self.tw_slack)
        if self.pop_size < 2:
            raise ValueError(f"pop_size: must be >= 2, got {self.pop_size}")
        if self.generation_size < 1:
            raise ValueError(f"generation_size: must be >= 1, got {self.generation_size}")
        if not 0 <= self.nb_elite <= self.pop_size:
            raise ValueError(f"nb_elite: must be in [0, pop_size], got {self.nb_elite}")
        if self.nb_close < 1:
            raise ValueError(f"nb_close: must be >= 1, got {self.nb_close}")
        if self.granular < 1:
            raise ValueError(f"granular: must be >= 1, got {self.granular}")
        if not 1 <= self.max_segment <= 3:
            raise ValueError(f"max_segment: must be 1, 2 or 3, got {self.max_segment}")
        if not 0.0 < self.target_feasible < 1.0:
            raise ValueError(f"target_feasible: must be in (0, 1), got {self.target_feasible}")
        if not 0.0 <= self.repair_probability <= 1.0:
            raise ValueError(f"repair_probability: must be in [0, 1], got {self.repair_probability}")
        if self.restart_after is not None and self.restart_after < 1:
            raise ValueError(f"restart_after: must be >= 1, got {self.restart_after}")
        if self.mutation is not None and not 0.0 <= self.mutation <= 1.0:
            raise ValueError(f"mutation: must be in [0, 1], got {self.mutation}")
        if self.mutation_from < 0:
            raise ValueError(f"mutation_from: must be >= 0, got {self.mutation_from}")
        if not 1 <= self.ruin_min <= self.ruin_max:
            raise ValueError(f"ruin_min, ruin_max: need 1 <= ruin_min <= ruin_max, got {self.ruin_min}, "
                             f"{self.ruin_max}")
        if not 0.0 <= self.ruin_best <= 1.0:
            raise ValueError(f"ruin_best: must be in [0, 1], got {self.ruin_best}")
        if not 0.0 < self.init_share <= 1.0:
            raise ValueError(f"init_share: must be in (0, 1], got {self.init_share}")
        if self.init is not None:
            check_init(self.init)
        if self.init_samples < 1:
            raise ValueError(f"init_samples: must be >= 1, got {self.init_samples}")
        if not 0.0 < self.init_time < 1.0:
            raise ValueError(f"init_time: must be in (0, 1), got {self.init_time}")


def check_init(name: str) -> None:
    """Raise unless ``name`` is a neural solver (``am:50``, ``pomo:<checkpoint>``, ...); an
    unknown solver name is a :class:`vrp.result.SolverError` that lists the valid ones."""
    from solvers.registry import spec

    try:
        found = spec(name)
    except SolverError as exc:
        raise ValueError(f"init: {exc}") from None
    if not (found.takes_argument and found.target.startswith("solvers.neural:")):
        raise ValueError(f"init: must name a neural solver with its checkpoint (am:50, am:mtvrp20, "
                         f"pomo:<checkpoint>, ...), got {name!r}")
