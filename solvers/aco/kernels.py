"""Numba kernels of the MAX-MIN ant system: ant construction over candidate lists and
the pheromone update."""

from __future__ import annotations

import numpy as np
from numba import njit

from solvers.hgs.kernels import rand_float


@njit(cache=True)
def construct(weights, cand, D, dem, cap, n_ants, state):
    """Build ``n_ants`` solutions; the next node is drawn in proportion to ``weights``.

    Ants pick among the unvisited nodes of the candidate list of the current node
    (capacity permitting); when none is left there they take the best-weighted
    unvisited node overall, and when no unvisited node fits they return to the
    depot and open a new route (``cap`` = inf for tsp/atsp: one route).

    Returns ``(nodes (n_ants, n-1), route_ends (n_ants, n), n_routes (n_ants,), cost (n_ants,))``;
    ant ``a``'s route ``r`` is ``nodes[a, route_ends[a, r-1]:route_ends[a, r]]`` with
    ``route_ends[a, -1]`` read as 0.
    """
    n = D.shape[0]
    kc = cand.shape[1]
    nodes = np.zeros((n_ants, n - 1), dtype=np.int64)
    ends = np.zeros((n_ants, n), dtype=np.int64)
    nroutes = np.zeros(n_ants, dtype=np.int64)
    costs = np.zeros(n_ants)
    used = np.zeros(n, dtype=np.bool_)
    probs = np.zeros(kc)
    for a in range(n_ants):
        used[:] = False
        used[0] = True
        cur = 0
        load = 0.0
        cost = 0.0
        r = 0
        for k in range(n - 1):
            total = 0.0
            for t in range(kc):
                v = cand[cur, t]
                w = 0.0
                if not used[v] and load + dem[v] <= cap + 1e-9:
                    w = weights[cur, v]
                probs[t] = w
                total += w
            nxt = -1
            if total > 0.0:
                x = rand_float(state) * total
                for t in range(kc):
                    x -= probs[t]
                    if x <= 0.0 and probs[t] > 0.0:
                        nxt = cand[cur, t]
                        break
                if nxt < 0:
                    for t in range(kc - 1, -1, -1):
                        if probs[t] > 0.0:
                            nxt = cand[cur, t]
                            break
            if nxt < 0:
                best = -1.0
                for v in range(1, n):
                    if not used[v] and load + dem[v] <= cap + 1e-9 and weights[cur, v] > best:
                        best = weights[cur, v]
                        nxt = v
            if nxt < 0:
                # nothing fits: close this route, start the next from the depot
                cost += D[cur, 0]
                ends[a, r] = k
                r += 1
                cur = 0
                load = 0.0
                best = -1.0
                for v in range(1, n):
                    if not used[v] and weights[0, v] > best:
                        best = weights[0, v]
                        nxt = v
            nodes[a, k] = nxt
            used[nxt] = True
            cost += D[cur, nxt]
            load += dem[nxt]
            cur = nxt
        cost += D[cur, 0]
        ends[a, r] = n - 1
        nroutes[a] = r + 1
        costs[a] = cost
    return nodes, ends, nroutes, costs


@njit(cache=True)
def deposit(tau, nodes, starts, amount, symmetric):
    """Add ``amount`` on every arc of a route set (both directions when symmetric)."""
    for r in range(starts.shape[0] - 1):
        a = starts[r]
        b = starts[r + 1]
        if a == b:
            continue
        prev = 0
        for p in range(a, b):
            v = nodes[p]
            tau[prev, v] += amount
            if symmetric:
                tau[v, prev] += amount
            prev = v
        tau[prev, 0] += amount
        if symmetric:
            tau[0, prev] += amount


@njit(cache=True)
def bound(tau, scale, tmin, tmax):
    """Multiply by ``scale`` (evaporation) and clip to the MAX-MIN limits."""
    n = tau.shape[0]
    for i in range(n):
        for j in range(n):
            t = tau[i, j] * scale
            if t < tmin:
                t = tmin
            elif t > tmax:
                t = tmax
            tau[i, j] = t


@njit(cache=True)
def make_weights(tau, eta_beta, alpha):
    n = tau.shape[0]
    w = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            w[i, j] = tau[i, j] ** alpha * eta_beta[i, j]
    return w
