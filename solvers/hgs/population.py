"""Individuals (a solution with its penalised parts and neighbour arrays) and the
subpopulations of the genetic search: broken-pairs distances and biased fitness."""

from __future__ import annotations

import numpy as np

from solvers.hgs import kernels as K
from solvers.hgs.params import Params


class Individual:
    __slots__ = ("nodes", "starts", "dist", "excess", "warp", "succ", "pred", "tour")

    def __init__(self, nodes: np.ndarray, starts: np.ndarray, dist: float, excess: float, warp: float,
                 n: int, angle: np.ndarray | None = None) -> None:
        self.nodes = nodes
        self.starts = starts
        self.tour = nodes
        if angle is not None and starts.size > 2:
            # giant tour for crossover: routes in order of the polar angle of their barycentre
            # (HGS-CVRP), so that OX inherits groups of neighbouring routes
            lens = np.diff(starts)
            keep = np.flatnonzero(lens > 0)
            if keep.size > 1:
                ang = angle[nodes]
                key = np.array([np.arctan2(np.sin(ang[starts[r]:starts[r + 1]]).mean(),
                                           np.cos(ang[starts[r]:starts[r + 1]]).mean()) for r in keep])
                self.tour = np.concatenate([nodes[starts[r]:starts[r + 1]] for r in keep[np.argsort(key)]])
        self.dist = dist
        self.excess = excess
        self.warp = warp
        self.succ, self.pred = K.succ_pred(nodes, starts, n)

    @property
    def feasible(self) -> bool:
        return self.excess <= 1e-9 and self.warp <= 1e-9

    def penalised(self, pc: float, ptw: float) -> float:
        return self.dist + pc * self.excess + ptw * self.warp


class SubPopulation:
    """Individuals with their pairwise broken-pairs distances and biased fitness."""

    def __init__(self, params: Params, n: int) -> None:
        self.params = params
        self.n = n
        self.members: list[Individual] = []
        self.prox = np.zeros((0, 0))
        self._fit: tuple[float, float, np.ndarray] | None = None  # (pc, ptw, fitness), reset on change

    def __len__(self) -> int:
        return len(self.members)

    def _distances(self, ind: Individual) -> np.ndarray:
        if not self.members:
            return np.zeros(0)
        succ = np.stack([m.succ for m in self.members])[:, 1:]
        pred = np.stack([m.pred for m in self.members])[:, 1:]
        s, p = ind.succ[1:], ind.pred[1:]
        broken = (succ != s) & (pred != s)
        broken |= (p == 0)[None, :] & (pred != 0) & (succ != 0)
        return broken.sum(axis=1) / max(1, self.n - 1)

    def add(self, ind: Individual) -> None:
        d = self._distances(ind)
        k = len(self.members)
        prox = np.zeros((k + 1, k + 1))
        prox[:k, :k] = self.prox
        prox[k, :k] = d
        prox[:k, k] = d
        self.prox = prox
        self.members.append(ind)
        self._fit = None

    def remove(self, idx: int) -> None:
        del self.members[idx]
        self.prox = np.delete(np.delete(self.prox, idx, axis=0), idx, axis=1)
        self._fit = None

    def fitness(self, pc: float, ptw: float) -> np.ndarray:
        """Biased fitness (lower is better): cost rank + (1 - elite/size) diversity rank."""
        if self._fit is not None and self._fit[0] == pc and self._fit[1] == ptw:
            return self._fit[2]
        k = len(self.members)
        if k == 1:
            return np.zeros(1)
        cost = np.array([m.penalised(pc, ptw) for m in self.members])
        close = min(self.params.nb_close, k - 1)
        pr = self.prox + np.diag(np.full(k, np.inf))
        div = np.sort(pr, axis=1)[:, :close].mean(axis=1)
        cost_rank = np.empty(k)
        cost_rank[np.argsort(cost, kind="stable")] = np.arange(k) / (k - 1)
        div_rank = np.empty(k)
        div_rank[np.argsort(-div, kind="stable")] = np.arange(k) / (k - 1)
        elite = min(self.params.nb_elite, k)
        fit = cost_rank + (1.0 - elite / k) * div_rank
        self._fit = (pc, ptw, fit)
        return fit

    def survivors(self, pc: float, ptw: float) -> None:
        """Remove clones first, then the worst biased fitness, down to ``pop_size``."""
        while len(self.members) > self.params.pop_size:
            k = len(self.members)
            pr = self.prox + np.diag(np.full(k, np.inf))
            clones = np.flatnonzero(pr.min(axis=1) <= 1e-12)
            if clones.size:
                cost = np.array([self.members[i].penalised(pc, ptw) for i in clones])
                self.remove(int(clones[int(np.argmax(cost))]))
                continue
            self.remove(int(np.argmax(self.fitness(pc, ptw))))
