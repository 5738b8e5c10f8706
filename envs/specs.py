"""Instance specs for ``vrp bench``: files, globs, dataset names, groups, generated sets.

A SPEC is one of

- a file (``.tsp``, ``.atsp``, ``.vrp``, Solomon ``.txt``, our ``.json``, a flow-problem
  JSON) or a folder of such files;
- a glob (``data/*.vrp``);
- a shipped dataset name (``berlin52``, ``X-n101-k25``, ``C101``);
- a group of shipped instances: ``tsplib`` (every TSPLIB ``.tsp``/``.atsp``), ``cvrplib``
  (every CVRPLIB ``.vrp``), ``cvrplib-x`` (the ``X-`` set of Uchoa et al.), ``solomon``
  (every Solomon file); membership is the ``datasets/`` folder, BKS from ``BKS.csv``;
- a generated set ``generated:PROBLEM:SIZE:COUNT[:seed=S][:distribution=D]``, e.g.
  ``generated:cvrp:50:100:seed=1`` (instances ``i`` = :func:`envs.generate.generate_many`).

:func:`resolve` turns specs into :class:`vrp.bench.BenchItem` s; :func:`load` reloads one
instance from the ``source`` column of a results file (route plots in ``vrp report``).
Both are module-level functions, so the CLI can hand them to worker processes.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vrp import data
from vrp.bench import BenchError, BenchItem

GROUPS = ("tsplib", "cvrplib", "cvrplib-x", "solomon")
GENERATED = "generated"


def _dataset_group(path: Path) -> str | None:
    try:
        root = data.data_dir().resolve()
    except data.DataError:
        return None
    try:
        rel = path.resolve().relative_to(root)
    except ValueError:
        return None
    top = rel.parts[0] if rel.parts else ""
    if top == "cvrplib" and path.name.startswith("X-"):
        return "cvrplib-x"
    return top if top in ("tsplib", "cvrplib", "solomon") else None


def group_members(group: str) -> list[str]:
    """Names of the shipped instances in ``group`` (one of :data:`GROUPS`)."""
    if group == "cvrplib-x":
        return [n for n in data.names("cvrplib") if n.startswith("X-")]
    if group in ("tsplib", "cvrplib", "solomon"):
        return data.names(group)
    raise BenchError(f"unknown instance group {group!r} (groups: {', '.join(GROUPS)})")


def _bks_for(instance: Any, name: str) -> float | None:
    entry = data.bks(name)
    if entry is None or getattr(instance, "n", None) != entry.n_nodes:
        return None
    # BKS values hold under the format's rounding; a generated or re-rounded copy is another instance.
    if getattr(instance, "rounding", "exact") == "exact" and getattr(instance, "metric", "") == "euclidean":
        return None
    return entry.value


def _read_file(path: Path, source: str, group: str | None) -> BenchItem:
    from vrp import io

    try:
        from vrp import network
    except ImportError:  # the network model is optional at this level
        network = None  # type: ignore[assignment]
    if network is not None and path.suffix.lower() == ".json" and network.is_network_file(path):
        problem = network.read_problem(path)
        return BenchItem(problem.name, group or "network", source, problem, None, family="network")
    inst = io.read(path)
    shipped = _dataset_group(path)
    # Shipped files are known by their file name (the NAME line of ulysses22.tsp says "ulysses22.tsp").
    name = path.stem if shipped else inst.name
    return BenchItem(name, group or shipped or inst.variant, source, inst, _bks_for(inst, name))


def _parse_generated(spec: str) -> dict[str, Any]:
    parts = spec.split(":")
    usage = "generated:PROBLEM:SIZE:COUNT[:seed=S][:distribution=D]"
    if len(parts) < 4:
        raise BenchError(f"bad generated spec {spec!r}: expected {usage}")
    out: dict[str, Any] = {"problem": parts[1], "seed": 0, "distribution": "uniform"}
    try:
        out["size"] = int(parts[2])
        out["count"] = int(parts[3])
    except ValueError:
        raise BenchError(f"bad generated spec {spec!r}: SIZE and COUNT must be integers ({usage})") from None
    for extra in parts[4:]:
        key, sep, value = extra.partition("=")
        if not sep or key not in ("seed", "distribution"):
            raise BenchError(f"bad generated spec {spec!r}: unknown part {extra!r} ({usage})")
        if key == "seed":
            try:
                out["seed"] = int(value)
            except ValueError:
                raise BenchError(f"bad generated spec {spec!r}: seed must be an integer") from None
        else:
            out["distribution"] = value
    return out


def _canonical_generated(p: dict[str, Any]) -> str:
    return f"generated:{p['problem']}:{p['size']}:{p['count']}:seed={p['seed']}:distribution={p['distribution']}"


def _generated(spec: str) -> list[BenchItem]:
    from envs.generate import generate_many

    p = _parse_generated(spec)
    try:
        insts = generate_many(p["problem"], p["size"], p["count"], distribution=p["distribution"], seed=p["seed"])
    except ValueError as exc:
        raise BenchError(f"bad generated spec {spec!r}: {exc}") from None
    base = _canonical_generated(p)
    group = f"generated:{p['problem']}:{p['size']}"
    return [BenchItem(inst.name, group, f"{base}#{i}", inst, None) for i, inst in enumerate(insts)]


def resolve_one(spec: str) -> list[BenchItem]:
    """The instances one SPEC stands for (see the module docstring)."""
    from vrp import io

    spec = spec.strip()
    if not spec:
        raise BenchError("empty instance spec")
    if spec.startswith(GENERATED + ":"):
        return _generated(spec)
    if spec in GROUPS:
        return [_read_file(data.find(name), name, spec) for name in group_members(spec)]
    path = Path(spec)
    if path.is_dir():
        files = list(io.iter_instance_files(path))
        if not files:
            raise BenchError(f"{spec}: no instance files in this folder")
        return [_read_file(f, str(f), None) for f in files]
    if path.exists():
        return [_read_file(path, str(path), None)]
    if any(ch in spec for ch in "*?["):
        matches = sorted(glob.glob(spec))
        if not matches:
            raise BenchError(f"{spec}: the pattern matches no file")
        return [_read_file(Path(m), m, None) for m in matches if Path(m).is_file()]
    try:
        found = data.find(spec)
    except data.DataError:
        if os.sep in spec or path.suffix:
            raise BenchError(f"{spec}: no such file") from None
        raise BenchError(f"{spec}: no file, dataset name, group ({', '.join(GROUPS)}) "
                         f"or generated set by that name") from None
    return [_read_file(found, spec, None)]


def resolve(specs: Iterable[str], *, max_n: int | None = None) -> list[BenchItem]:
    """All instances of ``specs`` in order, duplicates (same name) dropped, ``n <= max_n`` kept."""
    from vrp.io import FormatError
    from vrp.model import InstanceError

    items: list[BenchItem] = []
    seen: set[str] = set()
    for spec in specs:
        try:
            found = resolve_one(spec)
        except (FormatError, InstanceError) as exc:
            raise BenchError(str(exc)) from None
        for it in found:
            if it.name in seen:
                continue
            if max_n is not None and getattr(it.instance, "n", 0) > max_n:
                continue
            seen.add(it.name)
            items.append(it)
    if not items:
        raise BenchError("the instance specs select no instance"
                         + (f" with at most {max_n} nodes" if max_n is not None else ""))
    return items


def load(source: str) -> Any:
    """Reload the instance a results row names in its ``source`` column."""
    if source.startswith(GENERATED + ":"):
        spec, _, idx = source.rpartition("#")
        p = _parse_generated(spec)
        from envs.generate import generate_many

        # Through generate_many, so that names and seeds are exactly those of the sweep.
        return generate_many(p["problem"], p["size"], int(idx) + 1, distribution=p["distribution"],
                             seed=p["seed"])[-1]
    items = resolve_one(source)
    return items[0].instance
