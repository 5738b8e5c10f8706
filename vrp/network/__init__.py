"""Flow routing in a capacitated network: the model beside :class:`~vrp.model.Instance`.

The priority flow admission and routing problem (PFAR): a directed network whose
links have a capacity (and optionally a latency), and traffic flows with a source,
a target, a demand and a priority. A solution admits a subset of the flows and
gives each admitted flow one simple path; the load of every link (the summed
demand of the admitted flows crossing it) must stay within its capacity, and a
flow's latency / hop limit, where it has one, must be kept. The objective, to be
maximised, is the priority-weighted admitted demand ``sum(priority * demand)``.

- :class:`Network`: an immutable, validated ``networkx.DiGraph`` (``capacity`` on
  every link, ``latency`` on every link or on none).
- :class:`Flows`: the offered traffic; :class:`FlowProblem` ties both together and
  checks that every flow's endpoints exist.
- :class:`FlowSolution`: admitted flow id -> path (a tuple of node labels).
- :func:`evaluate_flows` -> :class:`FlowScore`: the only place a flow objective is
  computed.

Files: our JSON (``"problem": "flows"``; the network inline, or a GraphML file named
relative to the JSON) and GraphML for a network alone. Every error is a
:class:`NetworkError` whose message names the file and the field.

JSON schema (version 1)::

    {"problem": "flows", "version": 1, "name": "waxman-50n-1000f-s1",
     "network": {"nodes": [{"id": 0, "x": 0.1, "y": 0.7}, ...],     # or [0, 1, ...]
                 "links": [{"source": 0, "target": 3, "capacity": 40.0,
                            "latency": 1.2}, ...]},                  # or "net.graphml"
     "flows": [{"source": 0, "target": 7, "demand": 3.5, "priority": 2,
                "max_latency": 9.0, "max_hops": 6}, ...],            # the last two optional
     "meta": {...}}                                                  # optional, free-form

A solution file::

    {"problem": "flows-solution", "version": 1, "instance": "waxman-50n-1000f-s1",
     "paths": {"0": [0, 3, 7], "5": [...]}, "score": {...}}          # score optional

Three modules, as the routing side keeps them: :mod:`~vrp.network.model`,
:mod:`~vrp.network.evaluate` and :mod:`~vrp.network.io`; everything public is
re-exported here.
"""

from vrp.network.evaluate import (
    FlowScore,
    FlowViolation,
    evaluate_flows,
    evaluate_problem,
    score_to_dict,
)
from vrp.network.io import (
    flows_from_json,
    flows_to_json,
    is_network_file,
    network_from_json,
    network_to_json,
    problem_from_json,
    problem_to_json,
    read_network,
    read_problem,
    read_solution,
    solution_from_json,
    solution_to_json,
    write_network,
    write_problem,
    write_solution,
)
from vrp.network.model import (
    EPS,
    FORMAT_VERSION,
    VARIANT,
    FlowProblem,
    Flows,
    FlowSolution,
    Network,
    NetworkError,
    Node,
)

__all__ = [
    "EPS", "FORMAT_VERSION", "VARIANT", "FlowProblem", "FlowScore", "FlowSolution", "FlowViolation", "Flows",
    "Network", "NetworkError", "Node", "evaluate_flows", "evaluate_problem", "flows_from_json", "flows_to_json",
    "is_network_file", "network_from_json", "network_to_json", "problem_from_json", "problem_to_json",
    "read_network", "read_problem", "read_solution", "score_to_dict", "solution_from_json", "solution_to_json",
    "write_network", "write_problem", "write_solution",
]
