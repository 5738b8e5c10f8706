"""Flow problems, networks and solutions in files: our JSON and GraphML."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx is imported lazily: sniffing a file must stay cheap
    pass
from vrp.network.evaluate import FlowScore, score_to_dict
from vrp.network.model import (
    FORMAT_VERSION,
    FlowProblem,
    Flows,
    FlowSolution,
    Network,
    NetworkError,
    _label,
    _number,
    _nx,
)


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
