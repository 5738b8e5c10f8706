"""The flow-routing model: :class:`Network`, :class:`Flows`, :class:`FlowProblem`, :class:`FlowSolution`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
