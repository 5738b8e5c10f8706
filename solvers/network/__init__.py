"""Solvers for flow routing (PFAR, :mod:`vrp.network`): ``ilp``, ``ga``, ``greedy``.

Registered under the network family (``solvers.get("ilp", NETWORK)``); each takes a
:class:`~vrp.network.FlowProblem` and returns a :class:`~vrp.result.Result` whose
solution is a :class:`~vrp.network.FlowSolution`.
"""
