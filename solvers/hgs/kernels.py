"""Numba kernels shared by the HGS and the ant colony: random numbers, route segments
with time-warp concatenation, optimal Split, ordered crossover.

Internal node numbering: node 0 is the depot, customers are 1..n-1 (the solver
permutes the instance so). Open routes are modelled by a distance matrix whose
column 0 is zero (the return leg costs nothing), so every kernel treats routes as
closed.

A *segment* is the tuple ``(first, last, dist, load, dur, tw, early, late)``:
its first and last node, travelled distance, total demand, and Vidal's time-warp
data (duration including service and waiting, time warp, earliest and latest
start). Concatenation is O(1) (Vidal et al. 2013, "A hybrid genetic algorithm
with adaptive diversity management for a large class of vehicle routing
problems with time-windows").
"""

from __future__ import annotations

import numpy as np
from numba import njit

BIG = 1e30


# ---------------------------------------------------------------- random numbers
@njit(cache=True)
def rand_u64(state: np.ndarray) -> np.uint64:
    """xorshift64*: fast, seedable, identical on every platform."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(2685821657736338717)


@njit(cache=True)
def rand_int(state: np.ndarray, n: int) -> np.int64:
    """Uniform integer in [0, n)."""
    return np.int64((rand_u64(state) >> np.uint64(11)) % np.uint64(n))


@njit(cache=True)
def rand_float(state: np.ndarray) -> float:
    """Uniform float in [0, 1)."""
    return float(rand_u64(state) >> np.uint64(11)) / 9007199254740992.0


@njit(cache=True)
def shuffle(state: np.ndarray, a: np.ndarray) -> None:
    for i in range(a.shape[0] - 1, 0, -1):
        j = rand_int(state, i + 1)
        t = a[i]
        a[i] = a[j]
        a[j] = t


def new_state(seed: int) -> np.ndarray:
    """A generator state from a Python integer seed (never zero)."""
    s = np.uint64((int(seed) * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (1 << 64)) | np.uint64(1)
    return np.array([s], dtype=np.uint64)


# ---------------------------------------------------------------- segments
@njit(cache=True, inline="always")
def seg_node(v, dem, ready, due, serv):
    return (v, v, 0.0, dem[v], serv[v], 0.0, ready[v], due[v])


@njit(cache=True, inline="always")
def concat(a, b, D, has_tw):
    d = D[a[1], b[0]]
    dist = a[2] + b[2] + d
    load = a[3] + b[3]
    if has_tw:
        delta = a[4] - a[5] + d
        dwait = max(b[6] - delta - a[7], 0.0)
        dtw = max(a[6] + delta - b[7], 0.0)
        dur = a[4] + b[4] + d + dwait
        tw = a[5] + b[5] + dtw
        early = max(b[6] - delta, a[6]) - dwait
        late = min(b[7] - delta, a[7]) + dtw
        return (a[0], b[1], dist, load, dur, tw, early, late)
    return (a[0], b[1], dist, load, 0.0, 0.0, 0.0, 0.0)


@njit(cache=True, inline="always")
def penalised(seg, cap, pc, ptw):
    """Distance plus penalties for excess load and time warp of a whole route."""
    excess = seg[3] - cap
    c = seg[2] + seg[5] * ptw
    if excess > 1e-9:
        c += excess * pc
    return c


# ---------------------------------------------------------------- split
@njit(cache=True)
def _route_cost(tour, i, j, cap, pc, ptw, D, dem, ready, due, serv, has_tw):
    acc = seg_node(0, dem, ready, due, serv)
    for p in range(i, j):
        acc = concat(acc, seg_node(tour[p], dem, ready, due, serv), D, has_tw)
    acc = concat(acc, seg_node(0, dem, ready, due, serv), D, has_tw)
    return penalised(acc, cap, pc, ptw)


@njit(cache=True)
def split(tour, caps, limited, pc, ptw, D, dem, ready, due, serv, has_tw, exact_up_to=300):
    """Optimal Split of a giant tour into at most ``caps.size`` routes.

    Returns ``starts`` (``caps.size + 1`` offsets into ``tour``): route slot k
    holds ``tour[starts[k]:starts[k+1]]``. With ``limited`` False all slots share
    ``caps[0]`` and the split is unlimited (Bellman on the auxiliary DAG) unless it
    needs more routes than slots; otherwise a fleet-indexed DP assigns consecutive
    segments to slots 0, 1, ... in order (empty routes allowed), using each slot's
    own capacity (heterogeneous fleet). Optimal for the penalised cost up to
    ``exact_up_to`` customers; above, routes are cut at 1.5 x capacity for speed.
    """
    n = tour.shape[0]
    m = caps.shape[0]
    starts = np.zeros(m + 1, dtype=np.int64)
    if m == 1 or n == 0:
        starts[1:] = n
        return starts
    depot = seg_node(0, dem, ready, due, serv)
    # Longer routes than this never help: exact pruning by an upper bound below
    # ``exact_up_to`` customers, HGS-CVRP's 1.5 x capacity cut above.
    exact = n <= exact_up_to
    if not limited:
        cap = caps[0]
        # upper bound: one route per customer (a valid split with unlimited slots)
        ub = 0.0
        for p in range(n):
            one = concat(concat(depot, seg_node(tour[p], dem, ready, due, serv), D, has_tw), depot, D, has_tw)
            ub += penalised(one, cap, pc, ptw)
        pot = np.full(n + 1, BIG)
        pred = np.zeros(n + 1, dtype=np.int64)
        pot[0] = 0.0
        for i in range(n):
            if pot[i] >= BIG:
                continue
            acc = depot
            for j in range(i, n):
                acc = concat(acc, seg_node(tour[j], dem, ready, due, serv), D, has_tw)
                c = pot[i] + penalised(concat(acc, depot, D, has_tw), cap, pc, ptw)
                if c < pot[j + 1]:
                    pot[j + 1] = c
                    pred[j + 1] = i
                if exact:
                    # every longer route from i costs at least this excess penalty
                    if acc[3] > cap and pot[i] + pc * (acc[3] - cap) > ub + 1e-9:
                        break
                elif acc[3] > 1.5 * cap:
                    break
        # count routes
        k = 0
        j = n
        while j > 0:
            j = pred[j]
            k += 1
        if k <= m:
            j = n
            r = k
            while j > 0:
                starts[r] = j
                j = pred[j]
                r -= 1
            starts[0] = 0
            for r in range(k + 1, m + 1):
                starts[r] = n
            return starts
    # fleet-limited DP: pot[k, j] = best cost of serving tour[:j] with slots < k
    pot2 = np.full((m + 1, n + 1), BIG)
    pred2 = np.zeros((m + 1, n + 1), dtype=np.int64)
    pot2[0, 0] = 0.0
    for k in range(m):
        cap = caps[k]
        for j in range(n + 1):  # slot k empty
            if pot2[k, j] < pot2[k + 1, j]:
                pot2[k + 1, j] = pot2[k, j]
                pred2[k + 1, j] = j
        for i in range(n):
            if pot2[k, i] >= BIG:
                continue
            acc = depot
            for j in range(i, n):
                acc = concat(acc, seg_node(tour[j], dem, ready, due, serv), D, has_tw)
                c = pot2[k, i] + penalised(concat(acc, depot, D, has_tw), cap, pc, ptw)
                if c < pot2[k + 1, j + 1]:
                    pot2[k + 1, j + 1] = c
                    pred2[k + 1, j + 1] = i
                # the last slot must take everything left; the others may stop early
                if not exact and acc[3] > 1.5 * cap and k < m - 1:
                    break
    j = n
    for k in range(m, 0, -1):
        starts[k] = j
        j = pred2[k, j]
    starts[0] = 0
    return starts


# ---------------------------------------------------------------- crossover
@njit(cache=True)
def ox_crossover(p1, p2, state):
    """Ordered crossover (OX) of two permutations of the same customers."""
    n = p1.shape[0]
    child = np.empty(n, dtype=np.int64)
    if n < 2:
        child[:] = p1
        return child
    a = rand_int(state, n)
    b = rand_int(state, n)
    while b == a:
        b = rand_int(state, n)
    nmax = 0
    for v in p1:
        if v > nmax:
            nmax = v
    used = np.zeros(nmax + 1, dtype=np.bool_)
    i = a
    while i != (b + 1) % n:
        child[i] = p1[i]
        used[p1[i]] = True
        i = (i + 1) % n
    pos = (b + 1) % n
    for k in range(n):
        v = p2[(b + 1 + k) % n]
        if not used[v]:
            child[pos] = v
            pos = (pos + 1) % n
    return child


@njit(cache=True)
def succ_pred(nodes, starts, n):
    """Successor and predecessor of every node in a route set (depot = 0)."""
    succ = np.zeros(n, dtype=np.int32)
    pred = np.zeros(n, dtype=np.int32)
    for r in range(starts.shape[0] - 1):
        a = starts[r]
        b = starts[r + 1]
        prev = 0
        for p in range(a, b):
            v = nodes[p]
            pred[v] = prev
            if prev != 0:
                succ[prev] = v
            prev = v
        if prev != 0:
            succ[prev] = 0
    return succ, pred


@njit(cache=True)
def randomised_nearest_tour(D, state, choices):
    """A tour of customers 1..n-1 from the depot, each step one of the ``choices``
    nearest unvisited nodes at random (diverse but short starting tours)."""
    n = D.shape[0]
    out = np.empty(n - 1, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    used[0] = True
    cur = 0
    best_i = np.empty(choices, dtype=np.int64)
    best_d = np.empty(choices)
    for k in range(n - 1):
        cnt = 0
        for v in range(1, n):
            if used[v]:
                continue
            d = D[cur, v] + D[v, cur]
            if cnt < choices:
                p = cnt
                cnt += 1
            elif d < best_d[cnt - 1]:
                p = cnt - 1
            else:
                continue
            while p > 0 and best_d[p - 1] > d:
                best_d[p] = best_d[p - 1]
                best_i[p] = best_i[p - 1]
                p -= 1
            best_d[p] = d
            best_i[p] = v
        v = best_i[rand_int(state, cnt)]
        out[k] = v
        used[v] = True
        cur = v
    return out
