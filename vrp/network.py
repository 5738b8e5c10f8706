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
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from vrp.model import InstanceError

if TYPE_CHECKING:  # networkx is imported lazily: sniffing a file must stay cheap
    import networkx as nx

EPS = 1e-6
VARIANT = "flows"
FORMAT_VERSION = 1

Node = Any  # a hashable node label: int or str


class NetworkError(InstanceError):
    """A network, flow set, solution or file breaks the model's rules (message names file and field)."""


def _nx() -> Any:
    import networkx

    return networkx


def _number(where: str, value: Any, *, minimum: float | None = None, strict: bool = False,
            allow_inf: bool = False) -> float:
    if isinstance(value, bool):
        raise NetworkError(f"{where}: must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NetworkError(f"{where}: must be a number, got {value!r}") from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise NetworkError(f"{where}: must be finite, got {value!r}")
    if minimum is not None and (x <= minimum if strict else x < minimum):
        rel = "greater than" if strict else "at least"
        raise NetworkError(f"{where}: must be {rel} {minimum:g}, got {value!r}")
    return x


def _label(where: str, value: Any) -> Node:
    if isinstance(value, bool) or not isinstance(value, int | str | np.integer):
        raise NetworkError(f"{where}: a node label must be an integer or a string, got {value!r}")
    return int(value) if isinstance(value, np.integer) else value


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- model
@dataclass(frozen=True, eq=False)
class Network:
    """A directed, capacitated network (immutable, validated once).

    Parameters
    ----------
    graph
        A ``networkx.DiGraph`` (an undirected ``Graph`` becomes two opposite links
        per edge) whose every edge has a ``capacity`` >= 0 and either every edge or
        none a ``latency`` >= 0. Node labels are integers or strings; node
        attributes ``x``/``y`` are kept as coordinates. The graph is copied and frozen.
    name
        A name for files and reports.

    Attributes
    ----------
    nodes
        Node labels in a fixed order; ``index[label]`` is the position of a node.
    links
        ``(m, 2)`` int array of (tail, head) node positions, in a fixed order.
    capacity, latency
        ``(m,)`` arrays per link (``latency`` is None when the network has none).
    link_index
        ``(tail position, head position) -> link number``.
    """

    graph: nx.DiGraph
    name: str = "network"
    nodes: tuple[Node, ...] = field(init=False)
    index: Mapping[Node, int] = field(init=False, repr=False)
    links: np.ndarray = field(init=False, repr=False)
    capacity: np.ndarray = field(init=False, repr=False)
    latency: np.ndarray | None = field(init=False, repr=False)
    link_index: Mapping[tuple[int, int], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nx_ = _nx()
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name:
            raise NetworkError(f"name: must be a non-empty string, got {self.name!r}")
        g = self.graph
        if not isinstance(g, nx_.Graph):
            raise NetworkError(f"graph: must be a networkx graph, got {type(g).__name__}")
        if g.is_multigraph():
            raise NetworkError("graph: parallel links (a multigraph) are not supported; merge their capacities")
        dg = nx_.DiGraph()
        for v, attrs in g.nodes(data=True):
            label = _label("nodes", v)
            keep = {k: _number(f"nodes[{label!r}].{k}", attrs[k]) for k in ("x", "y") if k in attrs}
            dg.add_node(label, **keep)
        if dg.number_of_nodes() < 2:
            raise NetworkError(f"nodes: need at least 2 nodes, got {dg.number_of_nodes()}")
        edges = list(g.edges(data=True))
        if not g.is_directed():
            edges = edges + [(v, u, a) for u, v, a in edges]
        has_latency = None
        for u, v, attrs in edges:
            where = f"links[{u!r} -> {v!r}]"
            if u == v:
                raise NetworkError(f"{where}: a self-loop is not a link")
            if "capacity" not in attrs:
                raise NetworkError(f"{where}.capacity: missing")
            cap = _number(f"{where}.capacity", attrs["capacity"], minimum=0.0)
            lat = attrs.get("latency")
            if has_latency is None:
                has_latency = lat is not None
            if (lat is not None) != has_latency:
                raise NetworkError(f"{where}.latency: give a latency on every link or on none")
            link = {"capacity": cap}
            if lat is not None:
                link["latency"] = _number(f"{where}.latency", lat, minimum=0.0)
            dg.add_edge(u, v, **link)
        nodes = tuple(dg.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        m = dg.number_of_edges()
        links = np.zeros((m, 2), dtype=np.int64)
        caps = np.zeros(m)
        lats = np.zeros(m) if has_latency else None
        link_index: dict[tuple[int, int], int] = {}
        for e, (u, v, attrs) in enumerate(dg.edges(data=True)):
            links[e] = index[u], index[v]
            caps[e] = attrs["capacity"]
            if lats is not None:
                lats[e] = attrs["latency"]
            link_index[(index[u], index[v])] = e
        set_(self, "graph", nx_.freeze(dg))
        set_(self, "nodes", nodes)
        set_(self, "index", MappingProxyType(index))
        set_(self, "links", _readonly(links))
        set_(self, "capacity", _readonly(caps))
        set_(self, "latency", _readonly(lats) if lats is not None else None)
        set_(self, "link_index", MappingProxyType(link_index))

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def m(self) -> int:
        """Number of (directed) links."""
        return int(self.links.shape[0])

    @property
    def has_latency(self) -> bool:
        return self.latency is not None

    @classmethod
    def from_links(cls, links: Iterable[Sequence[Any]], *, nodes: Iterable[Node] | None = None,
                   name: str = "network") -> Network:
        """A network from ``(tail, head, capacity[, latency])`` tuples (plus isolated ``nodes``)."""
        g = _nx().DiGraph()
        if nodes is not None:
            g.add_nodes_from(nodes)
        for i, link in enumerate(links):
            if len(link) not in (3, 4):
                raise NetworkError(f"links[{i}]: expected (tail, head, capacity[, latency]), got {link!r}")
            attrs = {"capacity": link[2]}
            if len(link) == 4:
                attrs["latency"] = link[3]
            g.add_edge(link[0], link[1], **attrs)
        return cls(g, name=name)

    def __repr__(self) -> str:
        return f"Network(name={self.name!r}, nodes={self.n}, links={self.m}, latency={self.has_latency})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Mapping proxies do not pickle: rebuild (and re-validate) from the graph.
        return (Network, (_nx().DiGraph(self.graph), self.name))


@dataclass(frozen=True, eq=False)
class Flows:
    """The offered traffic: one entry per flow, flow ``i`` is position ``i``.

    Parameters
    ----------
    source, target
        Node labels of each flow's endpoints (different from each other).
    demand
        Bandwidth each flow needs on every link of its path (> 0).
    priority
        Weight of each flow in the objective (>= 0); 1 when not given.
    max_latency
        Latency limit per flow (``inf`` for none), or None: no limits.
    max_hops
        Hop (link count) limit per flow (``inf`` for none), or None: no limits.
    """

    source: tuple[Node, ...]
    target: tuple[Node, ...]
    demand: np.ndarray
    priority: np.ndarray | None = None
    max_latency: np.ndarray | None = None
    max_hops: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        src = tuple(_label(f"flows[{i}].source", v) for i, v in enumerate(self.source))
        dst = tuple(_label(f"flows[{i}].target", v) for i, v in enumerate(self.target))
        n = len(src)
        if len(dst) != n:
            raise NetworkError(f"flows: {n} sources but {len(dst)} targets")
        for i, (s, t) in enumerate(zip(src, dst)):
            if s == t:
                raise NetworkError(f"flows[{i}].target: equals its source {s!r}")
        set_(self, "source", src)
        set_(self, "target", dst)

        def vector(fname: str, value: Any, default: float | None, *, strict: bool = False,
                   allow_inf: bool = False) -> np.ndarray | None:
            if value is None:
                return None if default is None else _readonly(np.full(n, default))
            seq = list(value)
            if len(seq) != n:
                raise NetworkError(f"flows.{fname}: {len(seq)} values for {n} flows")
            arr = np.array([_number(f"flows[{i}].{fname}", x, minimum=0.0, strict=strict, allow_inf=allow_inf)
                            for i, x in enumerate(seq)], dtype=float)
            return _readonly(arr.reshape(n))

        set_(self, "demand", vector("demand", self.demand, None, strict=True))
        set_(self, "priority", vector("priority", self.priority, 1.0))
        set_(self, "max_latency", vector("max_latency", self.max_latency, None, allow_inf=True))
        hops = vector("max_hops", self.max_hops, None, strict=True, allow_inf=True)
        if hops is not None:
            finite = hops[np.isfinite(hops)]
            if (finite != np.round(finite)).any():
                i = int(np.flatnonzero(np.isfinite(hops) & (hops != np.round(hops)))[0])
                raise NetworkError(f"flows[{i}].max_hops: must be a whole number, got {hops[i]!r}")
        set_(self, "max_hops", hops)

    def __len__(self) -> int:
        return len(self.source)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Flows, (self.source, self.target, self.demand, self.priority, self.max_latency, self.max_hops))

    @property
    def weight(self) -> np.ndarray:
        """``priority * demand`` per flow: what admitting it adds to the objective."""
        assert self.priority is not None
        return self.priority * self.demand


@dataclass(frozen=True, eq=False)
class FlowProblem:
    """A network and the flows offered to it: what a network solver solves.

    Attributes
    ----------
    src, dst
        ``(F,)`` node positions (``network.index``) of each flow's endpoints.
    variant, sense
        ``"flows"`` and ``"max"``: the solver contract's variant check and the
        objective's direction.
    """

    network: Network
    flows: Flows
    name: str = "flows"
    meta: Mapping[str, Any] = field(default_factory=dict)
    src: np.ndarray = field(init=False, repr=False)
    dst: np.ndarray = field(init=False, repr=False)

    variant = VARIANT
    sense = "max"

    def __post_init__(self) -> None:
        if not isinstance(self.network, Network):
            raise NetworkError(f"network: must be a Network, got {type(self.network).__name__}")
        if not isinstance(self.flows, Flows):
            raise NetworkError(f"flows: must be Flows, got {type(self.flows).__name__}")
        if not isinstance(self.name, str) or not self.name:
            raise NetworkError(f"name: must be a non-empty string, got {self.name!r}")
        idx = self.network.index
        for end in ("source", "target"):
            for i, v in enumerate(getattr(self.flows, end)):
                if v not in idx:
                    raise NetworkError(f"flows[{i}].{end}: node {v!r} is not in the network")
        if self.flows.max_latency is not None and not self.network.has_latency \
                and np.isfinite(self.flows.max_latency).any():
            i = int(np.flatnonzero(np.isfinite(self.flows.max_latency))[0])
            raise NetworkError(f"flows[{i}].max_latency: the network's links have no latency")
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        object.__setattr__(self, "src", _readonly(np.array([idx[v] for v in self.flows.source], dtype=np.int64)))
        object.__setattr__(self, "dst", _readonly(np.array([idx[v] for v in self.flows.target], dtype=np.int64)))

    @property
    def num_flows(self) -> int:
        return len(self.flows)

    @property
    def offered(self) -> float:
        """Priority-weighted demand of all flows: an upper bound on any objective."""
        return float(self.flows.weight.sum())

    def __repr__(self) -> str:
        return f"FlowProblem(name={self.name!r}, nodes={self.network.n}, links={self.network.m}, flows={self.num_flows})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FlowProblem, (self.network, self.flows, self.name, dict(self.meta)))


@dataclass(frozen=True)
class FlowSolution:
    """Admitted flows and their paths: ``paths[flow id] = (source, ..., target)``.

    Flows absent from ``paths`` are rejected. Validity (links exist, path simple,
    capacities, limits) is the evaluator's job, not the constructor's.
    """

    paths: Mapping[int, tuple[Node, ...]]

    def __init__(self, paths: Mapping[int, Sequence[Node]] | Iterable[tuple[int, Sequence[Node]]]) -> None:
        items = paths.items() if isinstance(paths, Mapping) else paths
        clean: dict[int, tuple[Node, ...]] = {}
        for key, path in items:
            try:
                f = int(key)
            except (TypeError, ValueError):
                raise NetworkError(f"paths: flow id must be an integer, got {key!r}") from None
            if f < 0:
                raise NetworkError(f"paths: flow id must be >= 0, got {key!r}")
            if f in clean:
                raise NetworkError(f"paths[{f}]: given twice")
            if isinstance(path, str | bytes) or not isinstance(path, Sequence | np.ndarray):
                raise NetworkError(f"paths[{f}]: must be a list of nodes, got {path!r}")
            clean[f] = tuple(_label(f"paths[{f}]", v) for v in path)
        object.__setattr__(self, "paths", MappingProxyType(dict(sorted(clean.items()))))

    @property
    def admitted(self) -> tuple[int, ...]:
        return tuple(self.paths)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FlowSolution, (dict(self.paths),))

    def to_dict(self) -> dict[str, Any]:
        return {"paths": {str(f): list(p) for f, p in self.paths.items()}}

    @classmethod
    def from_indices(cls, problem: FlowProblem, paths: Mapping[int, Sequence[int]]) -> FlowSolution:
        """A solution from paths of node positions (what solvers work with)."""
        nodes = problem.network.nodes
        return cls({f: tuple(nodes[int(v)] for v in p) for f, p in paths.items()})


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class FlowViolation:
    """One broken rule, with the flow (id) or link ``(tail, head)`` it concerns."""

    kind: str  # path | capacity | latency | hops | flow
    message: str
    flow: int | None = None
    link: tuple[Node, Node] | None = None

    def __str__(self) -> str:
        where = f"flow {self.flow}: " if self.flow is not None else ""
        return f"{self.kind}: {where}{self.message}"


@dataclass(frozen=True)
class FlowScore:
    """What a flow solution is worth and whether it is allowed.

    ``objective`` = priority-weighted admitted demand (maximised); ``offered`` is the
    same sum over every flow (so ``objective / offered`` is the weighted acceptance).
    ``loads`` and ``utilisation`` are per link, in ``network.links`` order.
    """

    objective: float
    sense: str
    feasible: bool
    violations: tuple[FlowViolation, ...]
    admitted: tuple[int, ...]
    rejected: tuple[int, ...]
    admitted_demand: float
    offered_demand: float
    offered: float
    loads: np.ndarray
    utilisation: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def admitted_fraction(self) -> float:
        """Share of the offered demand (unweighted) that is admitted."""
        return self.admitted_demand / self.offered_demand if self.offered_demand else 0.0

    @property
    def max_utilisation(self) -> float:
        return float(self.utilisation.max()) if self.utilisation.size else 0.0

    @property
    def mean_utilisation(self) -> float:
        return float(self.utilisation.mean()) if self.utilisation.size else 0.0

    def violation_lines(self) -> list[str]:
        return [str(v) for v in self.violations]


def evaluate_flows(problem: FlowProblem, solution: FlowSolution) -> FlowScore:
    """Score ``solution`` on ``problem``: objective, feasibility, every violation, link loads.

    Checks, per admitted flow: the flow exists, its path starts at the source and
    ends at the target, every consecutive pair is a link, no node repeats, the
    latency and hop limits; then every link's load against its capacity.

    Returns
    -------
    FlowScore
        Never raises for a bad solution: everything is a reported violation. A
        flow id that does not exist is a ``flow`` violation and adds nothing.
    """
    net = problem.network
    fl = problem.flows
    F = len(fl)
    index = net.index
    link_index = net.link_index
    weight = fl.weight
    violations: list[FlowViolation] = []
    loads = np.zeros(net.m)
    admitted: list[int] = []
    lat = net.latency
    for f, path in solution.paths.items():
        if f >= F:
            violations.append(FlowViolation("flow", f"flow {f} does not exist (flows are 0..{F - 1})", flow=f))
            continue
        admitted.append(f)
        if len(path) < 2:
            violations.append(FlowViolation("path", f"path {list(path)} has fewer than two nodes", flow=f))
            continue
        if path[0] != fl.source[f] or path[-1] != fl.target[f]:
            violations.append(FlowViolation(
                "path", f"path runs {path[0]!r} -> {path[-1]!r}, the flow runs {fl.source[f]!r} -> {fl.target[f]!r}",
                flow=f))
        missing = [v for v in path if v not in index]
        if missing:
            violations.append(FlowViolation("path", f"node {missing[0]!r} is not in the network", flow=f))
            continue
        if len(set(path)) != len(path):
            seen: set[Node] = set()
            dup = next(v for v in path if v in seen or seen.add(v))  # type: ignore[func-returns-value]
            violations.append(FlowViolation("path", f"node {dup!r} repeats: the path is not simple", flow=f))
        total_latency = 0.0
        d = fl.demand[f]
        for u, v in zip(path[:-1], path[1:]):
            e = link_index.get((index[u], index[v]))
            if e is None:
                violations.append(FlowViolation("path", f"no link {u!r} -> {v!r}: the path is broken", flow=f,
                                                link=(u, v)))
                continue
            loads[e] += d
            if lat is not None:
                total_latency += lat[e]
        hops = len(path) - 1
        if fl.max_hops is not None and hops > fl.max_hops[f]:
            violations.append(FlowViolation("hops", f"{hops} links exceed the limit {fl.max_hops[f]:g}", flow=f))
        if fl.max_latency is not None and lat is not None and total_latency > fl.max_latency[f] + EPS:
            violations.append(FlowViolation(
                "latency", f"latency {total_latency:g} exceeds the limit {fl.max_latency[f]:g}", flow=f))
    cap = net.capacity
    over = np.flatnonzero(loads > cap + EPS * np.maximum(1.0, cap))
    for e in over.tolist():
        a, b = net.nodes[net.links[e, 0]], net.nodes[net.links[e, 1]]
        violations.append(FlowViolation(
            "capacity", f"link {a!r} -> {b!r} carries {loads[e]:g}, above its capacity {cap[e]:g}", link=(a, b)))
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cap > 0, loads / np.where(cap > 0, cap, 1.0), np.where(loads > 0, np.inf, 0.0))
    adm = np.array(admitted, dtype=np.int64)
    rejected = np.setdiff1d(np.arange(F), adm)
    return FlowScore(
        objective=float(weight[adm].sum()),
        sense="max",
        feasible=not violations,
        violations=tuple(violations),
        admitted=tuple(int(f) for f in adm),
        rejected=tuple(int(f) for f in rejected),
        admitted_demand=float(fl.demand[adm].sum()),
        offered_demand=float(fl.demand.sum()),
        offered=float(weight.sum()),
        loads=_readonly(loads),
        utilisation=_readonly(util),
    )


def score_to_dict(score: FlowScore) -> dict[str, Any]:
    """A JSON-ready summary of a :class:`FlowScore` (for ``--json`` and solution files)."""
    return {
        "objective": score.objective,
        "sense": score.sense,
        "feasible": score.feasible,
        "violations": score.violation_lines(),
        "admitted": len(score.admitted),
        "rejected": len(score.rejected),
        "rejected_flows": list(score.rejected),
        "admitted_demand": score.admitted_demand,
        "offered_demand": score.offered_demand,
        "admitted_fraction": score.admitted_fraction,
        "offered_objective": score.offered,
        "max_utilisation": score.max_utilisation if math.isfinite(score.max_utilisation) else None,
        "mean_utilisation": score.mean_utilisation if math.isfinite(score.mean_utilisation) else None,
    }


# --------------------------------------------------------------------------- files
def _where(path: str | Path | None) -> str:
    return f"{path}: " if path else ""


def _rethrow(path: str | Path | None, exc: NetworkError) -> NetworkError:
    return NetworkError(f"{_where(path)}{exc}")


def _load_json(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NetworkError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkError(f"{path}: cannot read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NetworkError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


_SNIFF = re.compile(rb'"problem"\s*:\s*"flows"')


def is_network_file(path: str | Path) -> bool:
    """Whether ``path`` looks like our flow-problem JSON (reads at most 4 KiB; never raises)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and _SNIFF.search(head) is not None


def network_to_json(network: Network) -> dict[str, Any]:
    g = network.graph
    nodes: list[Any] = []
    for v in network.nodes:
        attrs = g.nodes[v]
        nodes.append({"id": v, **{k: attrs[k] for k in ("x", "y") if k in attrs}} if attrs else v)
    links = []
    for e in range(network.m):
        u, v = network.nodes[network.links[e, 0]], network.nodes[network.links[e, 1]]
        link: dict[str, Any] = {"source": u, "target": v, "capacity": float(network.capacity[e])}
        if network.latency is not None:
            link["latency"] = float(network.latency[e])
        links.append(link)
    return {"name": network.name, "nodes": nodes, "links": links}


def network_from_json(data: Any, *, name: str = "network") -> Network:
    """A :class:`Network` from the ``"network"`` object of our JSON."""
    if not isinstance(data, Mapping):
        raise NetworkError(f"network: must be an object with nodes and links, got {type(data).__name__}")
    g = _nx().DiGraph()
    nodes = data.get("nodes", [])
    if not isinstance(nodes, list):
        raise NetworkError("network.nodes: must be a list")
    for i, v in enumerate(nodes):
        if isinstance(v, Mapping):
            if "id" not in v:
                raise NetworkError(f"network.nodes[{i}].id: missing")
            g.add_node(_label(f"network.nodes[{i}].id", v["id"]), **{k: v[k] for k in ("x", "y") if k in v})
        else:
            g.add_node(_label(f"network.nodes[{i}]", v))
    links = data.get("links")
    if not isinstance(links, list):
        raise NetworkError("network.links: missing or not a list")
    known = set(g.nodes)
    for i, link in enumerate(links):
        if not isinstance(link, Mapping):
            raise NetworkError(f"network.links[{i}]: must be an object, got {link!r}")
        for key in ("source", "target", "capacity"):
            if key not in link:
                raise NetworkError(f"network.links[{i}].{key}: missing")
        u = _label(f"network.links[{i}].source", link["source"])
        v = _label(f"network.links[{i}].target", link["target"])
        if nodes and (u not in known or v not in known):
            bad = u if u not in known else v
            raise NetworkError(f"network.links[{i}]: node {bad!r} is not in network.nodes")
        if g.has_edge(u, v):
            raise NetworkError(f"network.links[{i}]: link {u!r} -> {v!r} given twice")
        cap = _number(f"network.links[{i}].capacity", link["capacity"], minimum=0.0)
        attrs = {"capacity": cap}
        if "latency" in link and link["latency"] is not None:
            attrs["latency"] = _number(f"network.links[{i}].latency", link["latency"], minimum=0.0)
        g.add_edge(u, v, **attrs)
    return Network(g, name=str(data.get("name") or name))


def flows_to_json(flows: Flows) -> list[dict[str, Any]]:
    out = []
    assert flows.priority is not None
    for i in range(len(flows)):
        item: dict[str, Any] = {"source": flows.source[i], "target": flows.target[i],
                                "demand": float(flows.demand[i]), "priority": float(flows.priority[i])}
        if flows.max_latency is not None and math.isfinite(flows.max_latency[i]):
            item["max_latency"] = float(flows.max_latency[i])
        if flows.max_hops is not None and math.isfinite(flows.max_hops[i]):
            item["max_hops"] = int(flows.max_hops[i])
        out.append(item)
    return out


def flows_from_json(data: Any) -> Flows:
    if not isinstance(data, list):
        raise NetworkError(f"flows: must be a list of objects, got {type(data).__name__}")
    cols: dict[str, list[Any]] = {k: [] for k in ("source", "target", "demand", "priority", "max_latency", "max_hops")}
    for i, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise NetworkError(f"flows[{i}]: must be an object, got {item!r}")
        for key in ("source", "target", "demand"):
            if key not in item:
                raise NetworkError(f"flows[{i}].{key}: missing")
        for key in cols:
            default = 1.0 if key == "priority" else math.inf
            value = item.get(key)
            cols[key].append(default if value is None and key not in ("source", "target", "demand") else value)
    limits = {k: None if all(x == math.inf for x in cols[k]) else cols[k] for k in ("max_latency", "max_hops")}
    return Flows(
        source=tuple(cols["source"]), target=tuple(cols["target"]), demand=cols["demand"],  # type: ignore[arg-type]
        priority=cols["priority"], max_latency=limits["max_latency"], max_hops=limits["max_hops"],  # type: ignore[arg-type]
    )


def problem_to_json(problem: FlowProblem, *, network_ref: str | None = None) -> dict[str, Any]:
    """Our JSON for ``problem`` (``network_ref``: name a GraphML file instead of inlining the network)."""
    out: dict[str, Any] = {"problem": "flows", "version": FORMAT_VERSION, "name": problem.name}
    out["network"] = network_ref if network_ref is not None else network_to_json(problem.network)
    out["flows"] = flows_to_json(problem.flows)
    if problem.meta:
        out["meta"] = dict(problem.meta)
    return out


def problem_from_json(data: Any, *, source: str | Path | None = None) -> FlowProblem:
    """A :class:`FlowProblem` from parsed JSON; ``source`` names the file (errors, GraphML paths)."""
    try:
        if not isinstance(data, Mapping):
            raise NetworkError(f"top level: must be an object, got {type(data).__name__}")
        if data.get("problem") != "flows":
            raise NetworkError(f"problem: must be \"flows\", got {data.get('problem')!r}")
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise NetworkError(f"version: this reader knows version {FORMAT_VERSION}, got {version!r}")
        name = data.get("name") or (Path(source).stem if source else "flows")
        if not isinstance(name, str):
            raise NetworkError(f"name: must be a string, got {name!r}")
        if "network" not in data:
            raise NetworkError("network: missing")
        net_data = data["network"]
        if isinstance(net_data, str):
            ref = Path(net_data)
            if source is not None and not ref.is_absolute():
                ref = Path(source).parent / ref
            network = read_network(ref)
        else:
            network = network_from_json(net_data, name=name)
        if "flows" not in data:
            raise NetworkError("flows: missing")
        flows = flows_from_json(data["flows"])
        meta = data.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise NetworkError("meta: must be an object")
        return FlowProblem(network, flows, name=name, meta=meta)
    except NetworkError as exc:
        if source is not None and not str(exc).startswith(str(source)):
            raise _rethrow(source, exc) from None
        raise


def read_problem(path: str | Path) -> FlowProblem:
    """Read our flow-problem JSON. Raises :class:`NetworkError` naming the file and field."""
    return problem_from_json(_load_json(path), source=path)


def write_problem(path: str | Path, problem: FlowProblem, *, graphml: str | Path | None = None) -> None:
    """Write ``problem`` as our JSON; with ``graphml``, the network goes to that GraphML file instead."""
    ref = None
    if graphml is not None:
        write_network(graphml, problem.network)
        gp, jp = Path(graphml).resolve(), Path(path).resolve()
        try:
            ref = str(gp.relative_to(jp.parent))
        except ValueError:
            ref = str(gp)
    Path(path).write_text(json.dumps(problem_to_json(problem, network_ref=ref)) + "\n", encoding="utf-8")


def read_network(path: str | Path) -> Network:
    """A network from GraphML (``.graphml``) or from our JSON (a problem file or a bare network object)."""
    p = Path(path)
    if p.suffix.lower() == ".graphml":
        if not p.exists():
            raise NetworkError(f"{path}: no such file")
        nx_ = _nx()
        try:
            g = nx_.read_graphml(p)
        except Exception as exc:  # noqa: BLE001 - networkx raises several unrelated types on bad XML
            raise NetworkError(f"{path}: not valid GraphML ({exc})") from None
        labels = list(g.nodes)
        if labels and all(isinstance(v, str) and re.fullmatch(r"-?\d+", v) for v in labels):
            g = nx_.relabel_nodes(g, {v: int(v) for v in labels})
        if g.is_multigraph():
            raise _rethrow(path, NetworkError("graph: parallel links (a multigraph) are not supported"))
        try:
            return Network(g, name=str(g.graph.get("name") or p.stem))
        except NetworkError as exc:
            raise _rethrow(path, exc) from None
    data = _load_json(p)
    try:
        if isinstance(data, Mapping) and data.get("problem") == "flows":
            return problem_from_json(data, source=None).network
        return network_from_json(data, name=p.stem)
    except NetworkError as exc:
        raise _rethrow(path, exc) from None


def write_network(path: str | Path, network: Network) -> None:
    """Write ``network`` as GraphML (``.graphml``) or as our JSON network object."""
    p = Path(path)
    if p.suffix.lower() == ".graphml":
        g = network.graph.copy()
        g.graph["name"] = network.name
        _nx().write_graphml(g, p)
    else:
        p.write_text(json.dumps(network_to_json(network)) + "\n", encoding="utf-8")


def solution_to_json(solution: FlowSolution, *, problem: FlowProblem | None = None,
                     score: FlowScore | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"problem": "flows-solution", "version": FORMAT_VERSION}
    if problem is not None:
        out["instance"] = problem.name
    out.update(solution.to_dict())
    if score is not None:
        out["score"] = score_to_dict(score)
    return out


def write_solution(path: str | Path, solution: FlowSolution, score: FlowScore | None = None, *,
                   problem: FlowProblem | None = None) -> None:
    """Write ``solution`` (and its score, when given) as JSON."""
    data = solution_to_json(solution, problem=problem, score=score)
    Path(path).write_text(json.dumps(data) + "\n", encoding="utf-8")


def solution_from_json(data: Any) -> FlowSolution:
    if not isinstance(data, Mapping):
        raise NetworkError(f"top level: must be an object, got {type(data).__name__}")
    if data.get("problem", "flows-solution") != "flows-solution":
        raise NetworkError(f"problem: must be \"flows-solution\", got {data.get('problem')!r}")
    paths = data.get("paths")
    if not isinstance(paths, Mapping):
        raise NetworkError("paths: missing or not an object of flow id -> node list")
    return FlowSolution(paths)


def read_solution(path: str | Path, problem: FlowProblem | None = None) -> FlowSolution:
    """Read a solution file written by :func:`write_solution` (``problem`` is accepted for symmetry)."""
    try:
        return solution_from_json(_load_json(path))
    except NetworkError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _rethrow(path, exc) from None


evaluate_problem = evaluate_flows  # the name the CLI uses
