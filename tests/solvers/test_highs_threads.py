"""HiGHS keeps one thread scheduler per process: our solvers may still change the thread count between solves."""

from __future__ import annotations

import solvers
from envs.network_generate import generate_flows_problem
from vrp.io import read


def test_threads_can_change_between_solves() -> None:
    # HiGHS sizes one scheduler per process: a solve with another thread count used to be refused.
    pb = generate_flows_problem("waxman", 20, 100, seed=1)
    for threads in (1, 2, 1):
        r = solvers.get("ilp", solvers.NETWORK, {"model": "path", "threads": threads}).solve(pb, time_limit=20)
        assert r.info["highs_status"] == "Optimal", threads
        assert r.info["optimal_over"] == "k-paths"


def test_routing_ilp_threads_can_change_too() -> None:
    inst = read("burma14")
    for threads in (2, 1):
        r = solvers.get("ilp", options={"threads": threads}).solve(inst, time_limit=30)
        assert r.status == "optimal", threads
