"""Neural solvers beyond their training size: decompose first, then decode each part.

A policy trained on ``size`` nodes collapses on instances many times larger (``am:50`` is
74-318 % above the BKS on 400-1000-node X files). With ``decompose=auto`` (the default) a
neural solver given more than ``k x size`` customers (cities for tsp) splits the instance
into parts of about its training size and decodes each part with the policy, in the chosen
``decode``/``search`` mode. ``k`` (:data:`THRESHOLD`) grows with the search, because a
search repairs more of a whole decoding the longer it runs: 2 without one, 3 for ``eas``,
4 for ``ls``. Measured for ``am:50`` at 10 s on 12 generated uniform TSPs of 110-200
cities (held out from the shipped files; mean gap to the best found, 3 instances a size):
``eas`` whole/parts 3.7/5.3 % at 110, 10.3/7.5 at 140, 16.0/7.0 at 170, 23.0/6.7 at 200;
``ls`` whole/parts 0.8/0.2 at 110, 0.5/1.7 at 140, 1.2/1.9 at 170, 2.0/2.1 at 200 (and on
a280 4.5/4.6 %, pcb442 5.1/3.6 %). Rows: ``benchmarks/results/decompose-threshold-2026-12-06.csv``
(``vrp bench --instances generated:tsp:110:3:seed=31 generated:tsp:140:3:seed=32
generated:tsp:170:3:seed=33 generated:tsp:200:3:seed=34 --solvers ga,am:50@eas,am:50@eas-whole,...``
with ``decompose=off`` on the ``-whole`` names, 10 s, one worker).

- ``cvrp`` and ``ocvrp`` (unlimited fleet), with ``search=ls`` or ``eas``: cluster first, route second
  (under ``eas`` from twice the training size, :data:`TERRITORY_THRESHOLD`: ``am:50`` at 60 s on four
  held-out generated CVRPs of 110 and 140 customers was 1.1 / 2.0 / 3.5 / 4.2 % cheaper in territories
  than whole, X-n120-k6 9.3 against 13.5-14.3 %)
  (:mod:`solvers.cluster`: capacity-aware binary k-means territories of at most ``part_size``
  customers, each within its route budget). Each territory is a small instance the policy
  routes; the time limit is shared between territories by their customer counts. With
  ``search=ls`` the whole solution is polished by the HGS local search at the end as well.
- ``tsp``: the cities are cut into compact parts of at most ``part_size`` (recursive median
  cuts along the wider axis), the policy tours every part (all parts in one batch), and the
  part cycles are merged one by one, in nearest-centroid order from the depot's part, each by
  the cheapest exchange of one edge of the tour so far and one of the part's cycle (Karp's
  partitioning scheme with a learned sub-solver). With ``search=ls`` the merged tour is then
  polished by the HGS local search, and rounds of other parts (the cuts' axes rotated) are
  decoded, merged and polished until the time limit, keeping the best; with ``search=eas``
  each part is searched in its share of the time.
- ``cvrp`` and ``ocvrp`` without a search (unlimited fleet, from three times the training size,
  where two sectors begin): two kinds of decoding, taking turns while the time holds, the
  cheapest kept.

  - Sweep sectors: the customers, by angle around the depot, are cut into sectors of about twice
    the training size (``part_size`` when given); the policy decodes every sector (one batch,
    with ``part_augment`` augmentations) and the sectors' routes are joined; the cuts are made at
    :data:`SECTOR_ROTATIONS` angles.
  - Route first, cluster second (``revise=auto``): the tsp policy of the same model and size
    (``am:tsp50`` for ``am:50``) tours every node at once (parts merged as for a tsp, greedy, 8
    augmentations; the parts' cuts at another angle each time), and the optimal Split of the
    HGS cuts the tour into routes within the capacity (:func:`split_tour`, Prins's scheme).

  Then (``revise=auto``) every route of each decoding is re-toured by the tsp policy (greedy,
  then multistart, 8 augmentations), and a route takes the shorter order (an open route: the
  tour without the depot edge that leaves the shorter path): GLOP's split of the work, the
  partition by one policy and the routes by a tsp policy. The cvrp policy orders long routes
  badly (X routes hold 14-23 customers, its training routes about seven), the tsp policy is near
  its training size there. Territories were measured first and lost: a territory puts the depot
  far outside its customers, which the policies never saw in training, and ``am:cvrp50``'s greedy
  routes of the territories of X-n401-k29 / X-n502-k39 / X-n1001-k43 were 66 / 14 / 925 % above
  the BKS against 19.5 / 19.2 / 318 % decoding the whole; a sector keeps the depot at its apex.
  Sectors alone (``revise=off``) give 11.9 / 9.7 / 25.9 % there (``part_size`` 50: 18.5 % on
  X-n401, of 130: 13.9 / 10.0 / 26.0 %, of 200: 13.2 % on X-n401; 8 rotations no better than 4;
  cut by demand instead of count: worse), with the routes re-toured 6.7 / 6.6 / 15.3 %, and with
  the giant tours besides 6.7 / 3.2 / 12.2 % (``benchmarks/decompose.py``; a giant tour's split
  alone, re-toured, 7.7-9.3 / 3.6 / 12.2-13.2 %: neither kind wins on all three). Held out, on
  generated CVRP of 150-1000 customers, 7.0-14.3 % against 13.9-30.8 % for sectors alone and
  17-816 % whole; ocvrp of 300 / 600 customers 20.0 / 19.4 % (``savings`` 23.7 / 21.6 %) against
  39.6 / 51.6 and 67 / 227 %. Still above ``savings`` on X-n401 / X-n1001 (4.3 / 7.0 %): the
  policies are the limit. Given the ``ga``'s own routes grouped into parts of at most 50
  customers, the cvrp policy routes the same customers 7.3-25.7 % dearer (best of 64 samples on
  each of 8 augmentations: 7.3-23.9 %), and 3.7-13.3 % with its routes re-toured
  (``benchmarks/decompose.py --subproblems``); re-decoding pairs of neighbouring routes with 16
  samples x 8 kept 1 change in 90. Searched territories (``search=ls``) reach 5.2 / 1.1 / 4.3 %.

Other variants (vrptw, hcvrp, op, pctsp with their fleet limits, atsp) are decoded whole.
The evaluator scores the joined solution, as always.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from vrp.evaluate import evaluate
from vrp.model import Instance, Solution
from vrp.result import Result, Tracer

#: variants with a decomposition (the rest are decoded whole at any size)
DECOMPOSE_VARIANTS = frozenset({"tsp", "cvrp", "ocvrp"})
DECOMPOSE_MODES = ("auto", "off")
#: ``decompose=auto`` cuts an instance of more than ``THRESHOLD[search] x`` the training size
THRESHOLD = {"none": 2, "eas": 3, "ls": 4}
#: the same for cvrp/ocvrp territories, under a search (measured for ``eas``: see the module docstring)
TERRITORY_THRESHOLD = {"eas": 2, "ls": 4}
#: cvrp/ocvrp without a search go into sweep sectors of about ``SECTOR_SIZE x`` the training size,
#: from the size that makes two of them (three times the training size)
SECTOR_SIZE = 2


def wants_decomposition(instance: Instance, trained_size: int, mode: str, search: str = "none") -> bool:
    """Whether ``instance`` is decomposed for a policy trained on ``trained_size`` nodes."""
    if mode == "off" or instance.variant not in DECOMPOSE_VARIANTS:
        return False
    if instance.variant != "tsp" and instance.num_vehicles is not None:
        return False  # territories and sectors cannot share a fleet limit (see solvers.cluster)
    if instance.variant != "tsp" and instance.coords is None:
        return False  # territories and sectors are cut on coordinates
    n = instance.n if instance.variant == "tsp" else instance.num_customers
    if instance.variant != "tsp" and search == "none":
        return sector_count(n, SECTOR_SIZE * trained_size) >= 2
    limits = THRESHOLD if instance.variant == "tsp" else TERRITORY_THRESHOLD
    return n > limits.get(search, 2) * trained_size


def by_territories(instance: Instance, inner: Any, part_size: int, polish_whole: bool, time_limit: float,
                   seed: int, progress: Callable[[float, float], None] | None, quick: Any = None) -> Result:
    """cvrp/ocvrp: the ``cluster`` solver with ``inner`` (a neural solver, decompose off) routing each
    territory; ``quick`` (its greedy decoding) routes them all first, for an incumbent at once."""
    from solvers.cluster import ClusterParams, ClusterSolver

    params = ClusterParams(inner="nearest", cluster_size=part_size, improve=polish_whole)
    solver = ClusterSolver(params, inner_solver=inner, quick_solver=quick)
    solver.progress = progress
    # the territories' decoding overshoots their shares by up to a forward pass each: keep a tenth back
    result = solver.solve(instance, time_limit=0.9 * time_limit, seed=seed)
    result.info = {"decompose": "territories", "part_size": part_size, **result.info}
    result.info.pop("inner", None)
    return result


#: sector decodings of cvrp/ocvrp without a search: the sweep is started at this many angles
SECTOR_ROTATIONS = 4


def sector_count(customers: int, sector_size: int) -> int:
    """Sweep sectors of about ``sector_size`` for ``customers`` (rounded half up; at least one)."""
    return max(1, int(customers / sector_size + 0.5))


def _sectors(instance: Instance, count: int, rotation: int) -> list[np.ndarray]:
    """The customers by angle around the depot, cut into ``count`` sectors of equal size; the cut
    starts ``rotation / SECTOR_ROTATIONS`` of a sector further round for each rotation."""
    assert instance.coords is not None
    xy = np.asarray(instance.coords, float)
    cust = np.asarray(instance.customers, dtype=np.int64)
    rel = xy[cust] - xy[instance.depot]
    order = cust[np.argsort(np.arctan2(rel[:, 1], rel[:, 0]), kind="stable")]
    order = np.roll(order, -int(rotation * order.size / (count * SECTOR_ROTATIONS)))
    return [m for m in np.array_split(order, count) if m.size]


Decoder = Callable[[list[Instance], float], list[Solution | None]]


#: a tsp policy's tour of every node: given the instance as a tsp, the time left and an angle for the
#: cuts of its parts (:func:`by_parts`)
GiantTour = Callable[[Instance, float, float], list[int] | None]
#: the angle between one giant tour's part cuts and the next (the golden angle, as the ls rounds)
TOUR_ANGLE = 2.399963


def by_sectors(instance: Instance, decode_batch: Decoder, sector_size: int, start: float, deadline: float,
               progress: Callable[[float, float], None] | None, revise: list[Decoder] | None = None,
               giant: GiantTour | None = None) -> Result:
    """cvrp/ocvrp without a search: sweep sectors of about ``sector_size`` customers around the
    depot, each decoded by the policy (one batch a rotation of the cuts), the routes joined; the
    cuts at :data:`SECTOR_ROTATIONS` angles. With ``giant`` (a tsp policy's tour of every node)
    the tour cut into routes by :func:`split_tour` is another decoding (route first, cluster
    second), as many as the sector decodings, its parts cut at other angles; the two kinds take
    turns, a giant tour first. Each decoding has every route re-toured at once by the ``revise``
    decoders (tsp policies, :func:`revise_many`): a sector decoding's routes are ordered badly, so
    its cost before the revision says little about its cost after. A decoding is not started when the time left
    would not hold the mean decoding and revision so far (the first always runs), nor a revision
    when it would not hold the last one (the first: half its decoding); the cheapest solution is
    kept."""
    from solvers.cluster import sub_instance

    tracer = Tracer(instance.sense, start, callback=progress)
    count = sector_count(instance.num_customers, sector_size)
    rotations = SECTOR_ROTATIONS if count > 1 else 1  # one sector: every rotation the same
    steps = [(kind, r) for r in range(rotations) for kind in (("tour", "sectors") if giant else ("sectors",))]
    best: tuple[float, Solution] | None = None
    spent: list[float] = []  # seconds of each step, its revision included
    done = revised = toured = 0
    revising: float | None = None  # seconds of the last revision
    for kind, rotation in steps:
        t0 = time.perf_counter()
        if best is not None and deadline - t0 < sum(spent) / len(spent):
            break
        share = (deadline - t0) / (len(steps) - len(spent))
        sol: Solution | None = None
        if kind == "tour":
            assert giant is not None
            tour = giant(as_tsp(instance), share, rotation * TOUR_ANGLE)
            toured += tour is not None
            sol = split_tour(instance, tour) if tour is not None else None
        else:
            sectors = _sectors(instance, count, rotation)
            sols = decode_batch([sub_instance(instance, m, k) for k, m in enumerate(sectors)], share)
            done += 1
            if all(x is not None for x in sols):
                sol = Solution([[int(m[v - 1]) for v in r] for m, x in zip(sectors, sols) if x is not None
                                for r in x.routes])
        if sol is not None and (score := evaluate(instance, sol)).feasible:
            value = score.objective
            tracer.offer(value)
            t1 = time.perf_counter()
            # a revision is started while the time left holds the last one (the first: half this decoding)
            if revise and deadline - t1 >= (revising if revising is not None else 0.5 * (t1 - t0)):
                sol = revise_many(instance, sol, revise, deadline)
                value = evaluate(instance, sol).objective
                tracer.offer(value)
                revised += 1
                revising = time.perf_counter() - t1
            if best is None or value < best[0]:
                best = (value, sol)
        spent.append(time.perf_counter() - t0)
    info: dict[str, Any] = {"decompose": "sectors", "part_size": sector_size, "parts": count, "rotations": done,
                            **({"giant_tours": toured} if giant is not None else {}),
                            **({"revised": revised} if revise else {})}
    if best is None:
        return Result(None, "unknown", tracer.elapsed(), info={**info, "reason": "a sector was left without routes"})
    return Result(best[1], "feasible", tracer.elapsed(), trace=tracer.trace, info=info)


def revise_many(instance: Instance, solution: Solution, revisers: list[Decoder], deadline: float) -> Solution:
    """Every route of ``solution`` re-toured by each of ``revisers`` in turn (:func:`revise_routes`;
    a later one only while the time left holds three times an earlier pass)."""
    t0 = time.perf_counter()
    for passes, reviser in enumerate(revisers):
        t1 = time.perf_counter()
        if passes and deadline - t1 < 3.0 * (t1 - t0) / passes:
            break
        solution = revise_routes(instance, solution, reviser, deadline - t1)
    return solution


def as_tsp(instance: Instance) -> Instance:
    """The instance's nodes (the depot too) as a tsp on the same distances and coordinates."""
    return Instance(name=f"{instance.name}-tour", distances=instance.distances, coords=instance.coords,
                    depot=instance.depot, rounding=instance.rounding, metric=instance.metric)


#: start points of a giant tour tried by :func:`split_tour`, in each direction
SPLIT_STARTS = 32
#: excess-load penalty per unit in :func:`split_tour`'s Split: no overload is ever worth it
_OVERLOAD = 1e9


def split_tour(instance: Instance, tour: list[int]) -> Solution:
    """A giant tour of every node (one cycle, the depot anywhere in it) cut into routes within the
    capacity by the optimal Split of the HGS (:func:`solvers.hgs.kernels.split`, unlimited fleet;
    open routes priced as open), the cheapest over :data:`SPLIT_STARTS` start points of the cycle in
    each direction (Prins's route first, cluster second)."""
    from solvers.hgs import kernels
    from solvers.hgs.problem import build

    pr = build(instance)
    inv = np.empty(pr.n, dtype=np.int64)
    inv[pr.order] = np.arange(pr.n)
    seq = inv[np.array([v for v in tour if v != instance.depot], dtype=np.int64)]
    best: tuple[float, Solution] | None = None
    for way in (seq, seq[::-1]):
        for k in range(0, way.size, max(1, way.size // SPLIT_STARTS)):
            nodes = np.ascontiguousarray(np.roll(way, -k))
            starts = kernels.split(nodes, pr.caps, pr.hetero, _OVERLOAD, 0.0, pr.D, pr.dem, pr.ready, pr.due,
                                   pr.serv, pr.has_tw)
            sol = pr.to_solution(nodes, starts)
            score = evaluate(instance, sol)
            if score.feasible and (best is None or score.objective < best[0]):
                best = (score.objective, sol)
    assert best is not None  # one customer a route always fits (every demand is within the capacity)
    return best[1]


def revise_routes(instance: Instance, solution: Solution, decode_batch: Decoder, time_left: float) -> Solution:
    """Every route of at least four customers as a tsp of its own (the depot and its customers),
    toured by a tsp policy in one batch; a route takes the tour when it is shorter (GLOP's idea: a
    partition, then a tsp policy on each part). An open route (ocvrp) takes the cycle without one
    of the depot's two edges, the one that leaves the shorter path."""
    d = instance.distances
    depot = instance.depot

    def length(route: list[int]) -> float:
        walk = [depot, *route] if instance.open_routes else [depot, *route, depot]
        return float(sum(d[a, b] for a, b in zip(walk, walk[1:])))

    routes = [list(r) for r in solution.routes]
    picked = [k for k, r in enumerate(routes) if len(r) >= 4]
    if not picked:
        return solution
    nodes = [np.array([depot, *routes[k]], dtype=np.int64) for k in picked]
    subs = [_part_instance(instance, m, k) for k, m in zip(picked, nodes)]
    for k, m, sol in zip(picked, nodes, decode_batch(subs, time_left)):
        if sol is None or len(sol.routes) != 1:
            continue
        tour = [int(m[v]) for v in sol.routes[0]]
        if instance.open_routes:
            tour = min(tour, tour[::-1], key=length)
        if length(tour) < length(routes[k]) - 1e-9:
            routes[k] = tour
    return Solution(routes)


def _halves(idx: np.ndarray, coords: np.ndarray, part_size: int) -> list[np.ndarray]:
    """Recursive median cuts along the wider axis until every part has at most ``part_size`` cities."""
    out: list[np.ndarray] = []
    stack = [idx]
    while stack:
        cur = stack.pop()
        if cur.size <= part_size:
            out.append(cur)
            continue
        pts = coords[cur]
        axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
        order = cur[np.argsort(pts[:, axis], kind="stable")]
        half = order.size // 2
        stack.extend((order[half:], order[:half]))
    return out


def _part_instance(instance: Instance, nodes: np.ndarray, number: int) -> Instance:
    return Instance(name=f"{instance.name}/part-{number}", distances=instance.distances[np.ix_(nodes, nodes)],
                    coords=None if instance.coords is None else instance.coords[nodes], depot=0,
                    rounding=instance.rounding, metric=instance.metric)


def _merge(big: list[int], small: list[int], d: np.ndarray) -> list[int]:
    """Join two cycles into one by the cheapest exchange of one edge of each (either orientation)."""
    c = np.asarray(big, dtype=np.int64)
    p = np.asarray(small, dtype=np.int64)
    cn, pn = np.roll(c, -1), np.roll(p, -1)
    base = d[c, cn][:, None] + d[p, pn][None, :]
    back = d[c[:, None], p[None, :]] + d[cn[:, None], pn[None, :]] - base  # c_i, p_j, p_j-1 ... p_j+1, c_i+1
    fwd = d[c[:, None], pn[None, :]] + d[cn[:, None], p[None, :]] - base  # c_i, p_j+1 ... p_j, c_i+1
    i_b, i_f = np.unravel_index(np.argmin(back), back.shape), np.unravel_index(np.argmin(fwd), fwd.shape)
    if back[i_b] <= fwd[i_f]:
        i, j = int(i_b[0]), int(i_b[1])
        inner = [int(v) for v in np.roll(p, -(j + 1))][::-1]  # p_j, p_j-1, ..., p_j+1
    else:
        i, j = int(i_f[0]), int(i_f[1])
        inner = [int(v) for v in np.roll(p, -(j + 1))]  # p_j+1, ..., p_j
    return big[: i + 1] + inner + big[i + 1:]


def by_parts(instance: Instance, decode_batch: Callable[[list[Instance]], list[Solution | None]],
             part_size: int, start: float, progress: Callable[[float, float], None] | None,
             angle: float = 0.0) -> Result:
    """tsp: tour compact parts with the policy (one batch), then merge the cycles (see the module docstring).

    ``angle`` rotates the axes of the median cuts (another angle, other parts).
    """
    assert instance.coords is not None
    d = instance.distances
    tracer = Tracer(instance.sense, start, callback=progress)
    coords = np.asarray(instance.coords, float)
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        coords = coords @ np.array([[c, -s], [s, c]])
    parts = _halves(np.arange(instance.n, dtype=np.int64), coords, part_size)
    subs = [_part_instance(instance, m, k) for k, m in enumerate(parts)]
    sols = decode_batch([s for s, m in zip(subs, parts) if m.size >= 4])
    cycles: list[list[int]] = []
    it = iter(sols)
    fallbacks = 0
    for m in parts:
        sol = next(it) if m.size >= 4 else None
        if sol is None:  # too small for the policy (or no tour): the cities in file order
            fallbacks += m.size >= 4
            cycles.append([int(v) for v in m])
        else:
            cycles.append([int(m[0])] + [int(m[v]) for v in sol.routes[0]])
    # merge in nearest-centroid order from the depot's part
    centres = np.array([coords[m].mean(axis=0) for m in parts])
    left = set(range(len(parts)))
    cur = next(k for k, m in enumerate(parts) if instance.depot in m)
    left.remove(cur)
    tour = cycles[cur]
    while left:
        ks = sorted(left)
        nxt = ks[int(np.argmin(((centres[ks] - centres[cur]) ** 2).sum(axis=1)))]
        left.remove(nxt)
        tour = _merge(tour, cycles[nxt], d) if len(cycles[nxt]) > 1 else tour + cycles[nxt]
        cur = nxt
    k = tour.index(instance.depot)
    solution = Solution([tour[k + 1:] + tour[:k]])
    tracer.offer(evaluate(instance, solution).objective)
    info = {"decompose": "parts", "part_size": part_size, "parts": len(parts), "fallback_parts": fallbacks}
    return Result(solution, "feasible", tracer.elapsed(), trace=tracer.trace, info=info)
