"""The problem model: one immutable, validated :class:`Instance` for every routing variant.

The variant is derived from which attributes are set, never chosen by class:

========  =====================================================================
variant   what makes it
========  =====================================================================
tsp       no demands, symmetric distances
atsp      no demands, asymmetric distances
cvrp      demands + capacity
ocvrp     cvrp with ``open_routes`` (no return leg to the depot)
vrptw     cvrp with time windows (and service times)
hcvrp     demands + per-vehicle capacities (heterogeneous fleet)
op        prizes + ``max_length`` (orienteering: maximise collected prize)
pctsp     prizes + penalties (prize-collecting TSP: minimise distance + penalties
          of skipped nodes, collecting at least ``min_prize``)
========  =====================================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

VARIANTS = ("tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op", "pctsp")
ROUNDINGS = ("nint", "ceil", "dimacs", "exact")
METRICS = ("euclidean", "att", "geo", "explicit")
MAXIMISE = frozenset({"op"})


class InstanceError(ValueError):
    """An instance (or solution) violates the model's rules; the message names field and value."""


def _round_nint(d: np.ndarray) -> np.ndarray:
    # TSPLIB nint: floor(x + 0.5), not banker's rounding.
    return np.floor(d + 0.5)


def _round_ceil(d: np.ndarray) -> np.ndarray:
    return np.ceil(d - 1e-9)


def _round_dimacs(d: np.ndarray) -> np.ndarray:
    # DIMACS VRPTW convention: truncate each edge to one decimal.
    return np.floor(d * 10.0 + 1e-9) / 10.0


def _round_exact(d: np.ndarray) -> np.ndarray:
    return d


ROUND_FUNCS = {
    "nint": _round_nint,
    "ceil": _round_ceil,
    "dimacs": _round_dimacs,
    "exact": _round_exact,
}


def euclidean(coords: np.ndarray) -> np.ndarray:
    """Plain (unrounded) Euclidean distance matrix of an ``(n, 2)`` array."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.sqrt((diff**2).sum(-1))


def att_distances(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ATT pseudo-Euclidean distances."""
    diff = coords[:, None, :] - coords[None, :, :]
    r = np.sqrt((diff**2).sum(-1) / 10.0)
    t = np.floor(r + 0.5)
    return np.where(t < r, t + 1.0, t)


def geo_distances(coords: np.ndarray) -> np.ndarray:
    """TSPLIB GEO distances (coordinates in DDD.MM, RRR = 6378.388)."""
    pi = 3.141592
    deg = np.trunc(coords)
    minutes = coords - deg
    rad = pi * (deg + 5.0 * minutes / 3.0) / 180.0
    lat, lon = rad[:, 0], rad[:, 1]
    q1 = np.cos(lon[:, None] - lon[None, :])
    q2 = np.cos(lat[:, None] - lat[None, :])
    q3 = np.cos(lat[:, None] + lat[None, :])
    arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
    d = np.floor(6378.388 * np.arccos(arg) + 1.0)
    np.fill_diagonal(d, 0.0)
    return d


def compute_distances(coords: np.ndarray, metric: str, rounding: str) -> np.ndarray:
    """Distance matrix from coordinates under a metric and a rounding convention."""
    if metric == "att":
        return att_distances(coords)
    if metric == "geo":
        return geo_distances(coords)
    if metric != "euclidean":
        raise InstanceError(f"metric: cannot compute distances for metric {metric!r} from coordinates")
    return ROUND_FUNCS[rounding](euclidean(coords))


def _array(name: str, value: Any, shape: tuple[int | None, ...], dtype: type = float) -> np.ndarray:
    arr: np.ndarray
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InstanceError(f"{name}: cannot be read as numbers ({exc})") from None
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "x".join("?" if s is None else str(s) for s in shape)
        raise InstanceError(f"{name}: expected shape {want}, got {'x'.join(map(str, arr.shape))}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise InstanceError(f"{name}: non-finite value {arr[tuple(bad)]} at index {bad}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Instance:
    """One routing instance of any variant.

    Parameters
    ----------
    name
        Instance name (``berlin52``, ``X-n101-k25``, ...).
    coords
        ``(n, 2)`` node coordinates, or None when only a distance matrix is known.
    distances
        ``(n, n)`` distance matrix (asymmetric allowed). Computed from ``coords``
        with ``metric`` and ``rounding`` when not given.
    depot
        Index of the depot (start and end of every route).
    demands, capacity
        Node demands (depot 0) and the vehicle capacity (cvrp family).
    vehicle_capacities
        Per-vehicle capacities: a heterogeneous fleet (hcvrp), one route per vehicle.
    num_vehicles
        Fleet size; None means unlimited.
    time_windows, service_times
        ``(n, 2)`` [ready, due] and ``(n,)`` service durations (vrptw). Travel time
        equals distance.
    open_routes
        Routes end at their last customer (ocvrp).
    prizes, max_length
        Node prizes and route-length limit (op); prizes, ``penalties`` and
        ``min_prize`` make a pctsp.
    rounding, metric
        How ``distances`` were made from ``coords``: kept so that files and JSON
        round-trip and gaps are only compared under the same convention.
    """

    name: str
    distances: np.ndarray
    coords: np.ndarray | None = None
    depot: int = 0
    demands: np.ndarray | None = None
    capacity: float | None = None
    vehicle_capacities: np.ndarray | None = None
    num_vehicles: int | None = None
    time_windows: np.ndarray | None = None
    service_times: np.ndarray | None = None
    open_routes: bool = False
    prizes: np.ndarray | None = None
    max_length: float | None = None
    penalties: np.ndarray | None = None
    min_prize: float | None = None
    rounding: str = "exact"
    metric: str = "explicit"
    variant: str = field(init=False)
    #: Decimals every cost has under the instance's convention (0 for integer
    #: distances, 1 for DIMACS, None for exact floats): sums are rounded to them so
    #: that float addition never shows 827.2999999 for 827.3.
    cost_decimals: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # noqa: C901 - one validation pass, field by field
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name:
            raise InstanceError(f"name: must be a non-empty string, got {self.name!r}")
        if self.rounding not in ROUNDINGS:
            raise InstanceError(f"rounding: must be one of {', '.join(ROUNDINGS)}, got {self.rounding!r}")
        if self.metric not in METRICS:
            raise InstanceError(f"metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")

        coords = None
        if self.coords is not None:
            coords = _array("coords", self.coords, (None, 2))
            set_(self, "coords", coords)
        if self.distances is None:
            if coords is None:
                raise InstanceError("distances: neither a distance matrix nor coordinates given")
            if self.metric == "explicit":
                set_(self, "metric", "euclidean")
            dist = compute_distances(coords, self.metric, self.rounding)
            dist.setflags(write=False)
        else:
            d = np.asarray(self.distances)
            if d.ndim != 2 or d.shape[0] != d.shape[1]:
                raise InstanceError(f"distances: matrix must be square, got shape {'x'.join(map(str, d.shape))}")
            dist = _array("distances", d, (d.shape[0], d.shape[0]))
        set_(self, "distances", dist)
        n = dist.shape[0]
        if n < 2:
            raise InstanceError(f"distances: need at least 2 nodes, got {n}")
        if coords is not None and coords.shape[0] != n:
            raise InstanceError(f"coords: {coords.shape[0]} rows but the distance matrix has {n} nodes")
        if (dist < 0).any():
            i, j = np.argwhere(dist < 0)[0].tolist()
            raise InstanceError(f"distances: negative distance {dist[i, j]} from {i} to {j}")
        if not (isinstance(self.depot, int | np.integer) and 0 <= self.depot < n):
            raise InstanceError(f"depot: must be a node index in [0, {n}), got {self.depot!r}")
        set_(self, "depot", int(self.depot))

        def node_vector(fname: str, nonneg: bool = True) -> np.ndarray | None:
            value = getattr(self, fname)
            if value is None:
                return None
            arr = _array(fname, value, (n,))
            if nonneg and (arr < 0).any():
                i = int(np.argmax(arr < 0))
                raise InstanceError(f"{fname}: negative value {arr[i]} at node {i}")
            set_(self, fname, arr)
            return arr

        demands = node_vector("demands")
        prizes = node_vector("prizes")
        penalties = node_vector("penalties")
        service = node_vector("service_times")

        if self.capacity is not None:
            cap = float(self.capacity)
            if not math.isfinite(cap) or cap <= 0:
                raise InstanceError(f"capacity: must be positive, got {self.capacity!r}")
            set_(self, "capacity", cap)
        vcaps = None
        if self.vehicle_capacities is not None:
            vcaps = _array("vehicle_capacities", self.vehicle_capacities, (None,))
            if vcaps.size == 0 or (vcaps <= 0).any():
                raise InstanceError(f"vehicle_capacities: must be positive, got {vcaps.tolist()}")
            set_(self, "vehicle_capacities", vcaps)
            if self.num_vehicles is not None and int(self.num_vehicles) != vcaps.size:
                raise InstanceError(
                    f"num_vehicles: {self.num_vehicles} differs from the {vcaps.size} vehicle_capacities"
                )
            set_(self, "num_vehicles", int(vcaps.size))
        if self.num_vehicles is not None:
            if int(self.num_vehicles) != self.num_vehicles or int(self.num_vehicles) < 1:
                raise InstanceError(f"num_vehicles: must be a positive integer, got {self.num_vehicles!r}")
            set_(self, "num_vehicles", int(self.num_vehicles))

        if demands is not None:
            if demands[self.depot] != 0:
                raise InstanceError(f"demands: depot demand must be 0, got {demands[self.depot]}")
            if self.capacity is None and vcaps is None:
                raise InstanceError("capacity: demands given but no capacity or vehicle_capacities")
            biggest = float(vcaps.max()) if vcaps is not None else float(self.capacity)  # type: ignore[arg-type]
            if demands.max() > biggest:
                i = int(np.argmax(demands))
                raise InstanceError(f"demands: demand {demands[i]} of node {i} exceeds the capacity {biggest}")
        elif self.capacity is not None or vcaps is not None:
            raise InstanceError("demands: a capacity is given but no demands")

        if self.time_windows is not None:
            tw = _array("time_windows", self.time_windows, (n, 2))
            if (tw[:, 0] > tw[:, 1]).any():
                i = int(np.argmax(tw[:, 0] > tw[:, 1]))
                raise InstanceError(f"time_windows: node {i} opens at {tw[i, 0]} after it closes at {tw[i, 1]}")
            set_(self, "time_windows", tw)
            if demands is None:
                raise InstanceError("time_windows: vrptw needs demands and a capacity")
        elif service is not None and (service > 0).any():
            raise InstanceError("service_times: given without time_windows")

        if self.max_length is not None:
            ml = float(self.max_length)
            if not math.isfinite(ml) or ml <= 0:
                raise InstanceError(f"max_length: must be positive, got {self.max_length!r}")
            set_(self, "max_length", ml)
        if self.min_prize is not None:
            mp = float(self.min_prize)
            if not math.isfinite(mp) or mp < 0:
                raise InstanceError(f"min_prize: must be non-negative, got {self.min_prize!r}")
            set_(self, "min_prize", mp)
            if prizes is not None and mp > prizes.sum() + 1e-9:
                raise InstanceError(f"min_prize: {mp} exceeds the total prize {prizes.sum()}")
        set_(self, "open_routes", bool(self.open_routes))

        if self.metric in ("att", "geo") or (self.metric == "euclidean" and self.rounding in ("nint", "ceil")):
            decimals: int | None = 0
        elif self.metric == "euclidean" and self.rounding == "dimacs":
            decimals = 1
        elif np.array_equal(dist, np.round(dist)):
            decimals = 0
        else:
            decimals = None
        set_(self, "cost_decimals", decimals)

        variant = self._derive_variant(demands, prizes, penalties)
        set_(self, "variant", variant)
        if variant in ("tsp", "atsp", "op", "pctsp"):
            if self.num_vehicles not in (None, 1):
                raise InstanceError(f"num_vehicles: {variant} has one route, got {self.num_vehicles}")
            set_(self, "num_vehicles", 1)

    def _derive_variant(self, demands: Any, prizes: Any, penalties: Any) -> str:
        if penalties is not None:
            if prizes is None:
                raise InstanceError("prizes: pctsp (penalties given) needs prizes")
            if demands is not None or self.time_windows is not None:
                raise InstanceError("penalties: pctsp cannot be combined with demands or time windows")
            return "pctsp"
        if prizes is not None:
            if self.max_length is None:
                raise InstanceError("max_length: prizes without penalties make an op, which needs max_length")
            if demands is not None or self.time_windows is not None:
                raise InstanceError("prizes: op cannot be combined with demands or time windows")
            return "op"
        if self.max_length is not None:
            raise InstanceError("max_length: only orienteering (op, with prizes) has a route-length limit")
        if self.min_prize is not None:
            raise InstanceError("min_prize: only pctsp (prizes and penalties) has a prize quota")
        if demands is None:
            if self.open_routes:
                raise InstanceError("open_routes: only the cvrp family has open routes")
            d = self.distances
            return "tsp" if np.array_equal(d, d.T) else "atsp"
        if self.time_windows is not None:
            if self.open_routes or self.vehicle_capacities is not None:
                raise InstanceError("time_windows: vrptw cannot be combined with open routes or a heterogeneous fleet")
            return "vrptw"
        if self.vehicle_capacities is not None:
            if self.open_routes:
                raise InstanceError("open_routes: hcvrp with open routes is not supported")
            return "hcvrp"
        return "ocvrp" if self.open_routes else "cvrp"

    # ------------------------------------------------------------------ derived
    @property
    def n(self) -> int:
        """Number of nodes, depot included."""
        return int(self.distances.shape[0])

    @property
    def num_customers(self) -> int:
        return self.n - 1

    @property
    def customers(self) -> np.ndarray:
        """Indices of every node except the depot."""
        idx = np.arange(self.n)
        return idx[idx != self.depot]

    @property
    def sense(self) -> str:
        """``"max"`` for op (prize), ``"min"`` for every other variant."""
        return "max" if self.variant in MAXIMISE else "min"

    @property
    def allows_skipping(self) -> bool:
        return self.variant in ("op", "pctsp")

    @property
    def is_symmetric(self) -> bool:
        return bool(np.array_equal(self.distances, self.distances.T))

    def capacity_of(self, vehicle: int) -> float:
        """Capacity of vehicle ``vehicle`` (inf where nothing is carried)."""
        if self.vehicle_capacities is not None:
            return float(self.vehicle_capacities[vehicle])
        return float(self.capacity) if self.capacity is not None else math.inf

    def replace(self, **changes: Any) -> Instance:
        """A copy with some fields changed (validated again)."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        if ("coords" in changes or "rounding" in changes or "metric" in changes) and "distances" not in changes:
            if kwargs["coords"] is not None and kwargs["metric"] != "explicit":
                kwargs["distances"] = None
        kwargs.update(changes)
        return Instance(**kwargs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        for f in fields(self):
            if not f.compare:
                continue
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if a is None or b is None or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fleet = "unlimited" if self.num_vehicles is None else self.num_vehicles
        return f"Instance(name={self.name!r}, variant={self.variant!r}, n={self.n}, vehicles={fleet})"


@dataclass(frozen=True)
class Solution:
    """Routes as lists of node indices, depot not repeated.

    For hcvrp, ``routes[k]`` is driven by vehicle ``k`` (empty routes allowed).
    Nodes in no route are skipped (allowed in op and pctsp only).
    """

    routes: tuple[tuple[int, ...], ...]

    def __init__(self, routes: Sequence[Sequence[int]]) -> None:
        try:
            clean = tuple(tuple(int(v) for v in r) for r in routes)
        except (TypeError, ValueError) as exc:
            raise InstanceError(f"routes: node indices must be integers ({exc})") from None
        object.__setattr__(self, "routes", clean)

    @property
    def visited(self) -> list[int]:
        return [v for r in self.routes for v in r]

    @property
    def num_routes(self) -> int:
        return sum(1 for r in self.routes if r)

    def skipped(self, instance: Instance) -> list[int]:
        seen = set(self.visited)
        return [int(i) for i in instance.customers if int(i) not in seen]

    def to_dict(self) -> dict[str, Any]:
        return {"routes": [list(r) for r in self.routes]}

    @staticmethod
    def from_tour(tour: Sequence[int], depot: int = 0) -> Solution:
        """A one-route solution from a closed tour listing every visited node once."""
        tour = [int(v) for v in tour]
        if depot in tour:
            k = tour.index(depot)
            tour = tour[k + 1 :] + tour[:k]
        return Solution([tour])
