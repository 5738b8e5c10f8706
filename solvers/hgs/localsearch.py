"""The one local search of vrp-toolkit (the HGS educates with it, the ant colony
improves its best ants with it): granular neighbourhoods, first improvement,
numba-compiled.

Moves, for a customer ``u`` and each of its ``k`` nearest neighbours ``v``
(and the depot that starts ``v``'s route, and an empty route):

* relocate the segment of 1, 2 or 3 nodes starting at ``u`` after ``v``, also
  reversed (relocate and Or-opt),
* swap (1 or 2 nodes at ``u``) with (1 or 2 nodes at ``v``),
* 2-opt inside a route, 2-opt* (both reconnections) between routes,
* SWAP* light: exchanging two whole routes between vehicles (heterogeneous fleet).

Every move is written as the concatenation of at most five segments of the
current routes; its cost comes from O(1) prefix/suffix data (distance, load,
time warp), so one evaluator serves all variants: capacity and time-warp
penalties, asymmetric distances (a reversed segment's cost comes from reverse
prefix sums), open routes (zero return column) and per-vehicle capacities.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from solvers.hgs.kernels import concat, penalised, rand_int, seg_node, shuffle

EPS = 1e-7

# Field layout of the per-position array F[r, pos, :]
_CUMD, _CUMR, _CUML = 0, 1, 2
_PDUR, _PTW, _PEAR, _PLAT = 3, 4, 5, 6
_SDUR, _STW, _SEAR, _SLAT = 7, 8, 9, 10
NF = 11


@njit(cache=True)
def _update_route(r, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw):
    ln = L[r]
    F[r, 0, _CUMD] = 0.0
    F[r, 0, _CUMR] = 0.0
    F[r, 0, _CUML] = 0.0
    acc = seg_node(0, dem, ready, due, serv)
    F[r, 0, _PDUR] = acc[4]
    F[r, 0, _PTW] = acc[5]
    F[r, 0, _PEAR] = acc[6]
    F[r, 0, _PLAT] = acc[7]
    for p in range(1, ln + 2):
        v = R[r, p]
        u = R[r, p - 1]
        if p <= ln:
            route_of[v] = r
            pos_of[v] = p
        F[r, p, _CUMD] = F[r, p - 1, _CUMD] + D[u, v]
        F[r, p, _CUMR] = F[r, p - 1, _CUMR] + D[v, u]
        F[r, p, _CUML] = F[r, p - 1, _CUML] + dem[v]
        acc = concat(acc, seg_node(v, dem, ready, due, serv), D, has_tw)
        F[r, p, _PDUR] = acc[4]
        F[r, p, _PTW] = acc[5]
        F[r, p, _PEAR] = acc[6]
        F[r, p, _PLAT] = acc[7]
    cost[r] = penalised(acc, caps[r], pc, ptw)
    if has_tw:
        sacc = seg_node(0, dem, ready, due, serv)
        F[r, ln + 1, _SDUR] = sacc[4]
        F[r, ln + 1, _STW] = sacc[5]
        F[r, ln + 1, _SEAR] = sacc[6]
        F[r, ln + 1, _SLAT] = sacc[7]
        for p in range(ln, -1, -1):
            sacc = concat(seg_node(R[r, p], dem, ready, due, serv), sacc, D, has_tw)
            F[r, p, _SDUR] = sacc[4]
            F[r, p, _STW] = sacc[5]
            F[r, p, _SEAR] = sacc[6]
            F[r, p, _SLAT] = sacc[7]


@njit(cache=True)
def _seg(r, a, b, rev, R, L, F, D, dem, ready, due, serv, has_tw):
    """Segment data of positions a..b of route r (reversed when rev)."""
    if rev == 0:
        first = R[r, a]
        last = R[r, b]
        dist = F[r, b, _CUMD] - F[r, a, _CUMD]
        load = F[r, b, _CUML] - F[r, a, _CUML] + dem[first]
        if not has_tw:
            return (first, last, dist, load, 0.0, 0.0, 0.0, 0.0)
        if a == 0:
            return (first, last, dist, load, F[r, b, _PDUR], F[r, b, _PTW], F[r, b, _PEAR], F[r, b, _PLAT])
        if b == L[r] + 1:
            return (first, last, dist, load, F[r, a, _SDUR], F[r, a, _STW], F[r, a, _SEAR], F[r, a, _SLAT])
        acc = seg_node(first, dem, ready, due, serv)
        for p in range(a + 1, b + 1):
            acc = concat(acc, seg_node(R[r, p], dem, ready, due, serv), D, has_tw)
        return acc
    first = R[r, b]
    last = R[r, a]
    if not has_tw:
        dist = F[r, b, _CUMR] - F[r, a, _CUMR]
        load = F[r, b, _CUML] - F[r, a, _CUML] + dem[last]
        return (first, last, dist, load, 0.0, 0.0, 0.0, 0.0)
    acc = seg_node(first, dem, ready, due, serv)
    for p in range(b - 1, a - 1, -1):
        acc = concat(acc, seg_node(R[r, p], dem, ready, due, serv), D, has_tw)
    return acc


@njit(cache=True, inline="always")
def _dist(S, ns, R, F, D):
    """Travelled distance of a concatenation (a lower bound of its penalised cost)."""
    total = 0.0
    prev = -1
    for k in range(ns):
        r = S[k, 0]
        a = S[k, 1]
        b = S[k, 2]
        if S[k, 3] == 0:
            total += F[r, b, _CUMD] - F[r, a, _CUMD]
            first = R[r, a]
            last = R[r, b]
        else:
            total += F[r, b, _CUMR] - F[r, a, _CUMR]
            first = R[r, b]
            last = R[r, a]
        if prev >= 0:
            total += D[prev, first]
        prev = last
    return total


@njit(cache=True, inline="always")
def _eval(S, ns, capr, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw):
    if has_tw:
        return _eval_tw(S, ns, capr, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw)
    dist = _dist(S, ns, R, F, D)
    load = 0.0
    for k in range(ns):
        r = S[k, 0]
        load += F[r, S[k, 2], _CUML] - F[r, S[k, 1], _CUML] + dem[R[r, S[k, 1]]]
    if load > capr + 1e-9:
        dist += (load - capr) * pc
    return dist


@njit(cache=True)
def _eval_tw(S, ns, capr, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw):
    acc = _seg(S[0, 0], S[0, 1], S[0, 2], S[0, 3], R, L, F, D, dem, ready, due, serv, has_tw)
    for k in range(1, ns):
        acc = concat(acc, _seg(S[k, 0], S[k, 1], S[k, 2], S[k, 3], R, L, F, D, dem, ready, due, serv, has_tw),
                     D, has_tw)
    return penalised(acc, capr, pc, ptw)


@njit(cache=True, inline="always")
def _eval1(SA, na, ra, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw, out):
    if _dist(SA, na, R, F, D) >= old - EPS:
        return False
    c = _eval(SA, na, caps[ra], pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw)
    out[0] = c
    return c < old - EPS


@njit(cache=True, inline="always")
def _eval2(SA, na, ra, SB, nb, rb, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw, out):
    if _dist(SA, na, R, F, D) + _dist(SB, nb, R, F, D) >= old - EPS:
        return False
    ca = _eval(SA, na, caps[ra], pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw)
    cb = _eval(SB, nb, caps[rb], pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw)
    out[0] = ca + cb
    return ca + cb < old - EPS


@njit(cache=True, inline="always")
def _quick2(dist_a, load_a, cap_a, dist_b, load_b, cap_b, old, pc, has_tw, out):
    """O(1) screen of an inter-route move from its new distances and loads.

    0: not improving; 1: improving (exact without time windows, cost in out[0]);
    2: passes the distance bound, needs the full time-warp evaluation.
    """
    if dist_a + dist_b >= old - EPS:
        return 0
    if has_tw:
        return 2
    ca = dist_a
    if load_a > cap_a + 1e-9:
        ca += (load_a - cap_a) * pc
    cb = dist_b
    if load_b > cap_b + 1e-9:
        cb += (load_b - cap_b) * pc
    if ca + cb < old - EPS:
        out[0] = ca + cb
        return 1
    return 0


@njit(cache=True, inline="always")
def _add(S, ns, r, a, b, rev):
    if a > b:
        return ns
    S[ns, 0] = r
    S[ns, 1] = a
    S[ns, 2] = b
    S[ns, 3] = rev
    return ns + 1


@njit(cache=True)
def _materialise(S, ns, R, buf):
    k = 0
    for s in range(ns):
        r = S[s, 0]
        a = S[s, 1]
        b = S[s, 2]
        if S[s, 3] == 0:
            for p in range(a, b + 1):
                buf[k] = R[r, p]
                k += 1
        else:
            for p in range(b, a - 1, -1):
                buf[k] = R[r, p]
                k += 1
    return k


@njit(cache=True)
def _apply(ra, SA, na, rb, SB, nb, R, L, F, cost, caps, route_of, pos_of, bufa, bufb,
           pc, ptw, D, dem, ready, due, serv, has_tw):
    ka = _materialise(SA, na, R, bufa)
    kb = 0
    if rb >= 0:
        kb = _materialise(SB, nb, R, bufb)
    for p in range(ka):
        R[ra, p] = bufa[p]
    L[ra] = ka - 2
    _update_route(ra, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw)
    if rb >= 0:
        for p in range(kb):
            R[rb, p] = bufb[p]
        L[rb] = kb - 2
        _update_route(rb, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw)


@njit(cache=True)
def _try_pair(ru, i, rv, j, max_seg, SA, SB, R, L, F, cost, caps, pc, ptw, D, dem, ready, due, serv, has_tw,
              out):
    """Best-first scan of the moves between position (ru, i) and (rv, j); j may be 0.

    Returns a move code > 0 when an improving move was found and left described in
    SA (route ru) and SB (route rv, or nothing when code == 1: intra-route).
    """
    Lu = L[ru]
    Lv = L[rv]
    same = ru == rv
    if same:
        old = cost[ru]
    else:
        old = cost[ru] + cost[rv]
    tot_a = F[ru, Lu + 1, _CUMD]
    tot_b = F[rv, Lv + 1, _CUMD]
    ld_a = F[ru, Lu + 1, _CUML]
    ld_b = F[rv, Lv + 1, _CUML]
    # --- relocate / Or-opt: segment i..i+k-1 of ru after position j of rv
    for k in range(1, max_seg + 1):
        e = i + k - 1
        if e > Lu:
            break
        for rev in range(0, 2 if k >= 2 else 1):
            if same:
                if j >= i - 1 and j <= e:
                    if not (j == i - 1 and rev == 1):
                        continue
                if not has_tw:
                    # O(1) distance change; the load of the route does not change
                    pn = R[ru, i - 1]
                    nn = R[ru, e + 1]
                    if rev == 0:
                        first = R[ru, i]
                        last = R[ru, e]
                        inner = 0.0
                    else:
                        first = R[ru, e]
                        last = R[ru, i]
                        inner = (F[ru, e, _CUMR] - F[ru, i, _CUMR]) - (F[ru, e, _CUMD] - F[ru, i, _CUMD])
                    vj = R[ru, j]
                    yj = R[ru, j + 1]
                    if j == i - 1:
                        delta = -D[pn, R[ru, i]] - D[R[ru, e], nn] + D[pn, first] + D[last, nn] + inner
                    else:
                        delta = (-D[pn, R[ru, i]] - D[R[ru, e], nn] + D[pn, nn]
                                 - D[vj, yj] + D[vj, first] + D[last, yj] + inner)
                    if delta >= -EPS:
                        continue
                    out[0] = old + delta
                na = 0
                if j < i:
                    na = _add(SA, na, ru, 0, j, 0)
                    na = _add(SA, na, ru, i, e, rev)
                    na = _add(SA, na, ru, j + 1, i - 1, 0)
                    na = _add(SA, na, ru, e + 1, Lu + 1, 0)
                else:
                    na = _add(SA, na, ru, 0, i - 1, 0)
                    na = _add(SA, na, ru, e + 1, j, 0)
                    na = _add(SA, na, ru, i, e, rev)
                    na = _add(SA, na, ru, j + 1, Lu + 1, 0)
                if not has_tw or _eval1(SA, na, ru, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw,
                                        out):
                    SA[7, 0] = na
                    return 1
            else:
                seg_load = F[ru, e, _CUML] - F[ru, i, _CUML] + dem[R[ru, i]]
                if rev == 0:
                    first = R[ru, i]
                    last = R[ru, e]
                    seg_d = F[ru, e, _CUMD] - F[ru, i, _CUMD]
                else:
                    first = R[ru, e]
                    last = R[ru, i]
                    seg_d = F[ru, e, _CUMR] - F[ru, i, _CUMR]
                dist_a = tot_a - (F[ru, e + 1, _CUMD] - F[ru, i - 1, _CUMD]) + D[R[ru, i - 1], R[ru, e + 1]]
                vj = R[rv, j]
                yj = R[rv, j + 1]
                dist_b = tot_b - D[vj, yj] + D[vj, first] + seg_d + D[last, yj]
                q = _quick2(dist_a, ld_a - seg_load, caps[ru], dist_b, ld_b + seg_load, caps[rv], old, pc, has_tw,
                            out)
                if q == 0:
                    continue
                na = 0
                na = _add(SA, na, ru, 0, i - 1, 0)
                na = _add(SA, na, ru, e + 1, Lu + 1, 0)
                nb = 0
                nb = _add(SB, nb, rv, 0, j, 0)
                nb = _add(SB, nb, ru, i, e, rev)
                nb = _add(SB, nb, rv, j + 1, Lv + 1, 0)
                if q == 1 or _eval2(SA, na, ru, SB, nb, rv, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv,
                                    has_tw, out):
                    SA[7, 0] = na
                    SB[7, 0] = nb
                    return 2
    # --- swaps of (1|2 nodes at u) with (1|2 nodes at v)
    if j >= 1:
        for k1 in range(1, 3):
            e1 = i + k1 - 1
            if e1 > Lu:
                break
            for k2 in range(1, 3):
                e2 = j + k2 - 1
                if e2 > Lv:
                    break
                if same:
                    if not has_tw:
                        if e1 < j:
                            a1, b1, a2, b2 = i, e1, j, e2
                        elif e2 < i:
                            a1, b1, a2, b2 = j, e2, i, e1
                        else:
                            continue
                        # first block a1..b1, second a2..b2 (a2 > b1); swap them
                        p1 = R[ru, a1 - 1]
                        n2 = R[ru, b2 + 1]
                        if b1 + 1 == a2:
                            delta = (-D[p1, R[ru, a1]] - D[R[ru, b1], R[ru, a2]] - D[R[ru, b2], n2]
                                     + D[p1, R[ru, a2]] + D[R[ru, b2], R[ru, a1]] + D[R[ru, b1], n2])
                        else:
                            delta = (-D[p1, R[ru, a1]] - D[R[ru, b1], R[ru, b1 + 1]] - D[R[ru, a2 - 1], R[ru, a2]]
                                     - D[R[ru, b2], n2]
                                     + D[p1, R[ru, a2]] + D[R[ru, b2], R[ru, b1 + 1]] + D[R[ru, a2 - 1], R[ru, a1]]
                                     + D[R[ru, b1], n2])
                        if delta >= -EPS:
                            continue
                        out[0] = old + delta
                    na = 0
                    if e1 < j:
                        na = _add(SA, na, ru, 0, i - 1, 0)
                        na = _add(SA, na, ru, j, e2, 0)
                        na = _add(SA, na, ru, e1 + 1, j - 1, 0)
                        na = _add(SA, na, ru, i, e1, 0)
                        na = _add(SA, na, ru, e2 + 1, Lu + 1, 0)
                    elif e2 < i:
                        na = _add(SA, na, ru, 0, j - 1, 0)
                        na = _add(SA, na, ru, i, e1, 0)
                        na = _add(SA, na, ru, e2 + 1, i - 1, 0)
                        na = _add(SA, na, ru, j, e2, 0)
                        na = _add(SA, na, ru, e1 + 1, Lu + 1, 0)
                    else:
                        continue
                    if not has_tw or _eval1(SA, na, ru, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv,
                                            has_tw, out):
                        SA[7, 0] = na
                        return 1
                else:
                    load_u = F[ru, e1, _CUML] - F[ru, i, _CUML] + dem[R[ru, i]]
                    load_v = F[rv, e2, _CUML] - F[rv, j, _CUML] + dem[R[rv, j]]
                    dist_a = (tot_a - (F[ru, e1 + 1, _CUMD] - F[ru, i - 1, _CUMD]) + D[R[ru, i - 1], R[rv, j]]
                              + (F[rv, e2, _CUMD] - F[rv, j, _CUMD]) + D[R[rv, e2], R[ru, e1 + 1]])
                    dist_b = (tot_b - (F[rv, e2 + 1, _CUMD] - F[rv, j - 1, _CUMD]) + D[R[rv, j - 1], R[ru, i]]
                              + (F[ru, e1, _CUMD] - F[ru, i, _CUMD]) + D[R[ru, e1], R[rv, e2 + 1]])
                    q = _quick2(dist_a, ld_a - load_u + load_v, caps[ru], dist_b, ld_b - load_v + load_u, caps[rv],
                                old, pc, has_tw, out)
                    if q == 0:
                        continue
                    na = 0
                    na = _add(SA, na, ru, 0, i - 1, 0)
                    na = _add(SA, na, rv, j, e2, 0)
                    na = _add(SA, na, ru, e1 + 1, Lu + 1, 0)
                    nb = 0
                    nb = _add(SB, nb, rv, 0, j - 1, 0)
                    nb = _add(SB, nb, ru, i, e1, 0)
                    nb = _add(SB, nb, rv, e2 + 1, Lv + 1, 0)
                    if q == 1 or _eval2(SA, na, ru, SB, nb, rv, old, caps, pc, ptw, R, L, F, D, dem, ready, due,
                                        serv, has_tw, out):
                        SA[7, 0] = na
                        SB[7, 0] = nb
                        return 2
    # --- 2-opt (intra) and 2-opt* (inter)
    if same:
        na = 0
        if j >= i + 2:
            na = _add(SA, na, ru, 0, i, 0)
            na = _add(SA, na, ru, i + 1, j, 1)
            na = _add(SA, na, ru, j + 1, Lu + 1, 0)
        elif i >= j + 2:
            na = _add(SA, na, ru, 0, j, 0)
            na = _add(SA, na, ru, j + 1, i, 1)
            na = _add(SA, na, ru, i + 1, Lu + 1, 0)
        else:
            return 0
        if not has_tw:
            a = min(i, j)
            b = max(i, j)
            ra = R[ru, a]
            ra1 = R[ru, a + 1]
            rb = R[ru, b]
            rb1 = R[ru, b + 1]
            delta = (-D[ra, ra1] - D[rb, rb1] + D[ra, rb] + D[ra1, rb1]
                     + (F[ru, b, _CUMR] - F[ru, a + 1, _CUMR]) - (F[ru, b, _CUMD] - F[ru, a + 1, _CUMD]))
            if delta < -EPS:
                out[0] = old + delta
                SA[7, 0] = na
                return 1
            return 0
        if _eval1(SA, na, ru, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw, out):
            SA[7, 0] = na
            return 1
        return 0
    pre_la = F[ru, i, _CUML]
    pre_lb = F[rv, j, _CUML]
    q = 0
    if not (i == Lu and j == Lv):
        dist_a = F[ru, i, _CUMD] + D[R[ru, i], R[rv, j + 1]] + tot_b - F[rv, j + 1, _CUMD]
        dist_b = F[rv, j, _CUMD] + D[R[rv, j], R[ru, i + 1]] + tot_a - F[ru, i + 1, _CUMD]
        q = _quick2(dist_a, pre_la + ld_b - pre_lb, caps[ru], dist_b, pre_lb + ld_a - pre_la, caps[rv], old, pc,
                    has_tw, out)
    if q != 0:
        na = 0
        na = _add(SA, na, ru, 0, i, 0)
        na = _add(SA, na, rv, j + 1, Lv + 1, 0)
        nb = 0
        nb = _add(SB, nb, rv, 0, j, 0)
        nb = _add(SB, nb, ru, i + 1, Lu + 1, 0)
        if q == 1 or _eval2(SA, na, ru, SB, nb, rv, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw,
                            out):
            SA[7, 0] = na
            SB[7, 0] = nb
            return 2
    q = 0
    if not (j == 0 and i == Lu):
        if j >= 1:
            dist_a = F[ru, i, _CUMD] + D[R[ru, i], R[rv, j]] + (F[rv, j, _CUMR] - F[rv, 1, _CUMR]) + D[R[rv, 1], 0]
        else:
            dist_a = F[ru, i, _CUMD] + D[R[ru, i], 0]
        if i < Lu:
            dist_b = (D[0, R[ru, Lu]] + (F[ru, Lu, _CUMR] - F[ru, i + 1, _CUMR]) + D[R[ru, i + 1], R[rv, j + 1]]
                      + tot_b - F[rv, j + 1, _CUMD])
        else:
            dist_b = D[0, R[rv, j + 1]] + tot_b - F[rv, j + 1, _CUMD]
        q = _quick2(dist_a, pre_la + pre_lb, caps[ru], dist_b, ld_a - pre_la + ld_b - pre_lb, caps[rv], old, pc,
                    has_tw, out)
    if q != 0:
        na = 0
        na = _add(SA, na, ru, 0, i, 0)
        na = _add(SA, na, rv, 1, j, 1)
        na = _add(SA, na, ru, Lu + 1, Lu + 1, 0)
        nb = 0
        nb = _add(SB, nb, rv, 0, 0, 0)
        nb = _add(SB, nb, ru, i + 1, Lu, 1)
        nb = _add(SB, nb, rv, j + 1, Lv + 1, 0)
        if q == 1 or _eval2(SA, na, ru, SB, nb, rv, old, caps, pc, ptw, R, L, F, D, dem, ready, due, serv, has_tw,
                            out):
            SA[7, 0] = na
            SB[7, 0] = nb
            return 2
    return 0


@njit(cache=True)
def _top3(R, L, src, dst, D, cst, pos):
    """For each customer of route ``src``: the 3 cheapest insertions into ``dst`` (after position p)."""
    ld = L[dst]
    for x in range(1, L[src] + 1):
        u = R[src, x]
        c0 = c1 = c2 = 1e300
        p0 = p1 = p2 = -1
        for p in range(0, ld + 1):
            a = R[dst, p]
            b = R[dst, p + 1]
            c = D[a, u] + D[u, b] - D[a, b]
            if c < c2:
                if c < c1:
                    c2, p2 = c1, p1
                    if c < c0:
                        c1, p1 = c0, p0
                        c0, p0 = c, p
                    else:
                        c1, p1 = c, p
                else:
                    c2, p2 = c, p
        cst[x, 0] = c0
        cst[x, 1] = c1
        cst[x, 2] = c2
        pos[x, 0] = p0
        pos[x, 1] = p1
        pos[x, 2] = p2


@njit(cache=True)
def _best_insert(cst, pos, y, x, inplace):
    """Cheapest way to insert customer y of one route into the other after removing its x-th node."""
    best = inplace
    where = x - 1
    for t in range(3):
        p = pos[y, t]
        if p < 0:
            break
        if p == x - 1 or p == x:
            continue
        if cst[y, t] < best:
            best = cst[y, t]
            where = p
        break
    return best, where


@njit(cache=True)
def _swap_star(A, B, R, L, F, cost, caps, pc, D, dem, cA, pA, cB, pB, res):
    """SWAP* (Vidal 2022): exchange u of A and v of B, each reinserted at its best place
    in the other route. Leaves the best improving move in ``res`` and returns its delta."""
    _top3(R, L, A, B, D, cB, pB)  # customers of A into B
    _top3(R, L, B, A, D, cA, pA)  # customers of B into A
    LA = L[A]
    LB = L[B]
    dist_a = F[A, LA + 1, _CUMD]
    dist_b = F[B, LB + 1, _CUMD]
    load_a = F[A, LA + 1, _CUML]
    load_b = F[B, LB + 1, _CUML]
    best = -EPS
    for x in range(1, LA + 1):
        u = R[A, x]
        pu = R[A, x - 1]
        nu = R[A, x + 1]
        rem_a = D[pu, u] + D[u, nu] - D[pu, nu]
        for y in range(1, LB + 1):
            v = R[B, y]
            pv = R[B, y - 1]
            nv = R[B, y + 1]
            la = load_a - dem[u] + dem[v]
            lb = load_b - dem[v] + dem[u]
            pen = 0.0
            if la > caps[A] + 1e-9:
                pen += (la - caps[A]) * pc
            if lb > caps[B] + 1e-9:
                pen += (lb - caps[B]) * pc
            # lower bound with the cheapest insertion of each (ignoring validity)
            rem_b = D[pv, v] + D[v, nv] - D[pv, nv]
            lb_delta = dist_a + dist_b - rem_a - rem_b + pen - cost[A] - cost[B]
            if lb_delta + min(cA[y, 0], D[pu, v] + D[v, nu] - D[pu, nu]) + min(
                    cB[x, 0], D[pv, u] + D[u, nv] - D[pv, nv]) >= best:
                continue
            ins_v, at_v = _best_insert(cA, pA, y, x, D[pu, v] + D[v, nu] - D[pu, nu])
            ins_u, at_u = _best_insert(cB, pB, x, y, D[pv, u] + D[u, nv] - D[pv, nv])
            delta = lb_delta + ins_v + ins_u
            if delta < best:
                best = delta
                res[0] = x
                res[1] = y
                res[2] = at_v
                res[3] = at_u
    return best


@njit(cache=True)
def _swap_star_write(A, x, v, at, R, L, buf):
    """Route A without its x-th node, with v inserted after original position ``at``."""
    k = 0
    for p in range(0, L[A] + 2):
        if p != x:
            buf[k] = R[A, p]
            k += 1
        if p == at:
            buf[k] = v
            k += 1
    return k


@njit(cache=True)
def local_search(nodes, starts, caps, hetero, pc, ptw, D, dem, ready, due, serv, has_tw, neigh, max_seg,
                 state, swap_star=True, angle=None):
    """Improve a route set to a local optimum of the penalised cost (see :func:`_search`)."""
    return _search(nodes, starts, caps, hetero, pc, ptw, D, dem, ready, due, serv, has_tw, neigh, max_seg,
                   state, swap_star, np.empty(0, dtype=np.int64), angle)


@njit(cache=True)
def ruin_and_search(nodes, starts, caps, hetero, pc, ptw, D, dem, ready, due, serv, has_tw, neigh, max_seg,
                    state, remove, swap_star=True, angle=None):
    """Take the customers ``remove`` out, put each back at its cheapest place next to one of its
    granular neighbours, and search from there only: moves start from the removed customers
    and spread through the routes that change (a few milliseconds at 1000 nodes, where a
    search over every customer takes a tenth of a second). See :func:`_search`."""
    return _search(nodes, starts, caps, hetero, pc, ptw, D, dem, ready, due, serv, has_tw, neigh, max_seg,
                   state, swap_star, remove, angle)


TWO_PI = 2.0 * np.pi


@njit(cache=True)
def _sector(r, R, L, angle, start, length):
    """The smallest arc of polar angles around the depot holding every customer of route r."""
    ln = L[r]
    a = np.empty(ln)
    for p in range(ln):
        a[p] = angle[R[r, p + 1]]
    a.sort()
    gap = a[0] + TWO_PI - a[ln - 1]  # the wrap-around gap
    at = 0
    for p in range(1, ln):
        if a[p] - a[p - 1] > gap:
            gap = a[p] - a[p - 1]
            at = p
    start[r] = a[at]
    length[r] = TWO_PI - gap


@njit(cache=True, inline="always")
def _overlap(s1, l1, s2, l2):
    d = s2 - s1
    d -= TWO_PI * np.floor(d / TWO_PI)
    if d <= l1 + 1e-12:
        return True
    d = s1 - s2
    d -= TWO_PI * np.floor(d / TWO_PI)
    return d <= l2 + 1e-12


@njit(cache=True)
def _ruin_recreate(remove, R, L, F, cost, caps, hetero, route_of, pos_of, neigh, pc, ptw, D, dem, ready, due,
                   serv, has_tw, modified, state):
    n = D.shape[0]
    m = caps.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for k in range(remove.shape[0]):
        out[remove[k]] = True
    for r in range(m):
        k = 1
        for p in range(1, L[r] + 1):
            v = R[r, p]
            if not out[v]:
                R[r, k] = v
                k += 1
        if k - 1 != L[r]:
            R[r, k] = 0
            L[r] = k - 1
            _update_route(r, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw)
            modified[r] = 1
    order = remove.copy()
    shuffle(state, order)
    kn = neigh.shape[1]
    for k in range(order.shape[0]):
        u = order[k]
        best = 1e300
        br = -1
        bq = 0
        for t in range(kn):
            v = neigh[u, t]
            if out[v]:
                continue
            r = route_of[v]
            load = F[r, L[r] + 1, _CUML]
            extra = 0.0
            if load + dem[u] > caps[r] + 1e-9:
                extra = pc * (load + dem[u] - max(load, caps[r]))
            for q in range(pos_of[v] - 1, pos_of[v] + 1):
                a = R[r, q]
                b = R[r, q + 1]
                c = D[a, u] + D[u, b] - D[a, b] + extra
                if c < best:
                    best = c
                    br = r
                    bq = q
        for e in range(m):
            if L[e] != 0:
                continue
            c = D[0, u] + D[u, 0]
            if dem[u] > caps[e] + 1e-9:
                c += pc * (dem[u] - caps[e])
            if c < best:
                best = c
                br = e
                bq = 0
            if not hetero:
                break
        if br < 0:  # no neighbour routed and no empty route: the first place of route 0
            br = 0
            bq = 0
        for p in range(L[br] + 1, bq, -1):
            R[br, p + 1] = R[br, p]
        R[br, bq + 1] = u
        L[br] += 1
        out[u] = False
        _update_route(br, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw)
        modified[br] = 1


@njit(cache=True)
def _search(nodes, starts, caps, hetero, pc, ptw, D, dem, ready, due, serv, has_tw, neigh, max_seg,
            state, swap_star, remove, angle):
    """Improve a route set to a local optimum of the penalised cost.

    Parameters
    ----------
    nodes, starts
        Route slot k holds ``nodes[starts[k]:starts[k+1]]`` (internal numbering,
        depot 0 not listed). ``caps.size`` slots; empty slots allowed.
    caps
        Capacity of each slot (vehicle).
    hetero
        Slots differ (heterogeneous fleet): try every empty slot and route swaps.
    pc, ptw
        Penalty per unit of excess load and of time warp.
    neigh
        ``(n, k)`` granular neighbour lists (customers only).
    max_seg
        Longest segment relocated (1..3).
    swap_star
        Also try SWAP* between every pair of routes once the other moves are
        exhausted (without time windows).
    remove
        Customers to take out and put back before the search (ruin and recreate);
        when there are any, the search starts from them only (see :func:`ruin_and_search`).
    angle
        Polar angle of every node around the depot, or None: SWAP* then tries only the
        route pairs whose sectors overlap (HGS-CVRP); without it, the pairs where some
        customer has one of its 10 nearest in the other route.

    Returns
    -------
    (nodes, starts, distance, excess load, time warp, penalised cost, predicted)
        ``predicted`` is the initial penalised cost plus the sum of the deltas of
        the applied moves as the move evaluator computed them (tests compare it
        with the evaluator's cost).
    """
    n = D.shape[0]
    m = caps.shape[0]
    W = n + 2
    R = np.zeros((m, W), dtype=np.int64)
    L = np.zeros(m, dtype=np.int64)
    F = np.zeros((m, W, NF))
    cost = np.zeros(m)
    route_of = np.zeros(n, dtype=np.int64)
    pos_of = np.zeros(n, dtype=np.int64)
    for r in range(m):
        a = starts[r]
        b = starts[r + 1]
        L[r] = b - a
        for p in range(a, b):
            R[r, p - a + 1] = nodes[p]
        R[r, b - a + 1] = 0
        _update_route(r, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv, has_tw)
    SA = np.zeros((8, 4), dtype=np.int64)
    SB = np.zeros((8, 4), dtype=np.int64)
    bufa = np.zeros(W, dtype=np.int64)
    bufb = np.zeros(W, dtype=np.int64)
    modified = np.zeros(m, dtype=np.int64)
    tested = np.full(n, -1, dtype=np.int64)
    order = np.arange(1, n, dtype=np.int64)
    kn = neigh.shape[1]
    nbr = np.arange(kn, dtype=np.int64)
    gain = np.zeros(1)
    cA = np.zeros((W, 3))
    cB = np.zeros((W, 3))
    pA = np.zeros((W, 3), dtype=np.int64)
    pB = np.zeros((W, 3), dtype=np.int64)
    res = np.zeros(4, dtype=np.int64)
    near = np.zeros((m, m), dtype=np.bool_)
    # counter value when SWAP* last tested a route pair: a pair neither of whose routes
    # changed since has no improving SWAP* (its delta depends on those two routes only)
    swap_tested = np.full((m, m), -1, dtype=np.int64)
    sec_start = np.zeros(m)
    sec_len = np.zeros(m)
    sec_at = np.full(m, -1, dtype=np.int64)  # ``modified`` of the route when its sector was computed
    if remove.shape[0] > 0:
        # Ruin and recreate, then a search that starts where it changed things: the removed
        # customers, and (through ``modified``) every customer of a route that changed.
        _ruin_recreate(remove, R, L, F, cost, caps, hetero, route_of, pos_of, neigh, pc, ptw, D, dem, ready, due,
                       serv, has_tw, modified, state)
        tested[:] = 0
        for k in range(remove.shape[0]):
            tested[remove[k]] = -1
        swap_tested[:, :] = 0
    predicted = 0.0
    for r in range(m):
        predicted += cost[r]
    counter = 1
    improved = True
    loops = 0
    while improved:
        improved = False
        loops += 1
        shuffle(state, order)
        for idx in range(order.shape[0]):
            u = order[idx]
            shuffle(state, nbr)
            last = tested[u]
            tested[u] = counter
            for t in range(kn):
                v = neigh[u, nbr[t]]
                ru = route_of[u]
                rv = route_of[v]
                if modified[ru] <= last and modified[rv] <= last:
                    continue
                i = pos_of[u]
                j = pos_of[v]
                code = _try_pair(ru, i, rv, j, max_seg, SA, SB, R, L, F, cost, caps, pc, ptw, D, dem, ready, due,
                                 serv, has_tw, gain)
                if code == 0 and j == 1:
                    code = _try_pair(ru, i, rv, 0, max_seg, SA, SB, R, L, F, cost, caps, pc, ptw, D, dem, ready,
                                     due, serv, has_tw, gain)
                if code != 0:
                    predicted += gain[0] - (cost[ru] + cost[rv] if code == 2 else cost[ru])
                    _apply(ru, SA, SA[7, 0], rv if code == 2 else -1, SB, SB[7, 0], R, L, F, cost, caps, route_of,
                           pos_of, bufa, bufb, pc, ptw, D, dem, ready, due, serv, has_tw)
                    counter += 1
                    modified[ru] = counter
                    modified[rv] = counter
                    improved = True
            # moves into an empty route
            if m > 1:
                for e in range(m):
                    if L[e] != 0:
                        continue
                    ru = route_of[u]
                    if modified[ru] <= last and modified[e] <= last:
                        if not hetero:
                            break
                        continue  # tested before, and neither route changed since
                    i = pos_of[u]
                    code = _try_pair(ru, i, e, 0, max_seg, SA, SB, R, L, F, cost, caps, pc, ptw, D, dem, ready, due,
                                     serv, has_tw, gain)
                    if code != 0:
                        predicted += gain[0] - (cost[ru] + cost[e] if code == 2 else cost[ru])
                        _apply(ru, SA, SA[7, 0], e if code == 2 else -1, SB, SB[7, 0], R, L, F, cost, caps,
                               route_of, pos_of, bufa, bufb, pc, ptw, D, dem, ready, due, serv, has_tw)
                        counter += 1
                        modified[ru] = counter
                        modified[e] = counter
                        improved = True
                    if not hetero:
                        break
        if hetero:
            # exchange whole routes between vehicles of different capacity
            for r1 in range(m):
                for r2 in range(r1 + 1, m):
                    if caps[r1] == caps[r2]:
                        continue
                    s1 = _seg(r1, 0, L[r1] + 1, 0, R, L, F, D, dem, ready, due, serv, has_tw)
                    s2 = _seg(r2, 0, L[r2] + 1, 0, R, L, F, D, dem, ready, due, serv, has_tw)
                    c = penalised(s1, caps[r2], pc, ptw) + penalised(s2, caps[r1], pc, ptw)
                    if c < cost[r1] + cost[r2] - EPS:
                        predicted += c - cost[r1] - cost[r2]
                        for p in range(W):
                            tmp = R[r1, p]
                            R[r1, p] = R[r2, p]
                            R[r2, p] = tmp
                        tl = L[r1]
                        L[r1] = L[r2]
                        L[r2] = tl
                        _update_route(r1, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv,
                                      has_tw)
                        _update_route(r2, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv,
                                      has_tw)
                        counter += 1
                        modified[r1] = counter
                        modified[r2] = counter
                        improved = True
        if not improved and swap_star and not has_tw and m > 1:
            if angle is not None:
                for r in range(m):
                    if L[r] > 0 and sec_at[r] != modified[r]:
                        _sector(r, R, L, angle, sec_start, sec_len)
                        sec_at[r] = modified[r]
            else:
                # route pairs that are close: some customer has a granular neighbour in the other
                near[:, :] = False
                for u in range(1, n):
                    for t in range(min(kn, 10)):
                        near[route_of[u], route_of[neigh[u, t]]] = True
            for a in range(m):
                for b in range(a + 1, m):
                    if L[a] == 0 or L[b] == 0:
                        continue
                    if angle is not None:
                        if not _overlap(sec_start[a], sec_len[a], sec_start[b], sec_len[b]):
                            continue
                    elif not (near[a, b] or near[b, a]):
                        continue
                    if modified[a] <= swap_tested[a, b] and modified[b] <= swap_tested[a, b]:
                        continue
                    swap_tested[a, b] = counter
                    delta = _swap_star(a, b, R, L, F, cost, caps, pc, D, dem, cA, pA, cB, pB, res)
                    if delta < -EPS:
                        x, y, at_v, at_u = res[0], res[1], res[2], res[3]
                        u = R[a, x]
                        v = R[b, y]
                        ka = _swap_star_write(a, x, v, at_v, R, L, bufa)
                        kb = _swap_star_write(b, y, u, at_u, R, L, bufb)
                        for p in range(ka):
                            R[a, p] = bufa[p]
                        for p in range(kb):
                            R[b, p] = bufb[p]
                        L[a] = ka - 2
                        L[b] = kb - 2
                        predicted += delta
                        _update_route(a, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv,
                                      has_tw)
                        _update_route(b, R, L, F, cost, caps, route_of, pos_of, pc, ptw, D, dem, ready, due, serv,
                                      has_tw)
                        counter += 1
                        modified[a] = counter
                        modified[b] = counter
                        improved = True
    # write back
    out = np.empty(n - 1, dtype=np.int64)
    ost = np.zeros(m + 1, dtype=np.int64)
    k = 0
    dist = 0.0
    excess = 0.0
    warp = 0.0
    total = 0.0
    for r in range(m):
        ost[r] = k
        for p in range(1, L[r] + 1):
            out[k] = R[r, p]
            k += 1
        s = _seg(r, 0, L[r] + 1, 0, R, L, F, D, dem, ready, due, serv, has_tw)
        dist += s[2]
        if s[3] > caps[r]:
            excess += s[3] - caps[r]
        warp += s[5]
        total += cost[r]
    ost[m] = k
    return out, ost, dist, excess, warp, total, predicted


@njit(cache=True)
def evaluate_routes(nodes, starts, caps, pc, ptw, D, dem, ready, due, serv, has_tw):
    """(distance, excess load, time warp, penalised cost) of a route set."""
    m = caps.shape[0]
    dist = 0.0
    excess = 0.0
    warp = 0.0
    total = 0.0
    for r in range(m):
        acc = seg_node(0, dem, ready, due, serv)
        for p in range(starts[r], starts[r + 1]):
            acc = concat(acc, seg_node(nodes[p], dem, ready, due, serv), D, has_tw)
        acc = concat(acc, seg_node(0, dem, ready, due, serv), D, has_tw)
        if starts[r + 1] == starts[r]:
            continue
        dist += acc[2]
        if acc[3] > caps[r]:
            excess += acc[3] - caps[r]
        warp += acc[5]
        total += penalised(acc, caps[r], pc, ptw)
    return dist, excess, warp, total


_ = rand_int  # re-exported for the ant colony
