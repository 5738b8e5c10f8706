"""Learned heatmaps for the ant colony: ``aco --option heatmap=deepaco:runs/deepaco-tsp100``.

A heatmap name is ``deepaco:<checkpoint>``, the checkpoint named as for the neural
solvers (:mod:`solvers.neural.checkpoints`): a ``.pt`` file from ``vrp train --model
deepaco``, its run folder, or a shipped name (``tsp100`` would be
``datasets/checkpoints/deepaco-tsp100.pt``; none is shipped today: the heatmaps trained
so far did not lower ``aco``'s mean gap at equal time, see
``benchmarks/results/deepaco-2026-12-06.txt``); a bare path to such a file is taken as well.

The network is rl4co's DeepACO heatmap encoder (NARGNN): it reads the coordinates,
normalised as the adapter does for training (:mod:`envs.adapters`), and gives an
``n x n`` matrix of edge desirabilities in ``(0, 1)`` on a sparse k-nearest graph (about
zero elsewhere). The ant colony multiplies its heuristic by it (``prior ** gamma``).

Light at import: torch and rl4co are imported when the network is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vrp.model import Instance
from vrp.result import SolverError, UnsupportedVariant

MODEL = "deepaco"


def resolve(name: str) -> Path:
    """The checkpoint file of heatmap ``name``; one line naming the valid forms otherwise."""
    from solvers.neural.checkpoints import resolve_checkpoint

    text = str(name).strip()
    try:
        if text.startswith(MODEL + ":"):
            return resolve_checkpoint(text.split(":", 1)[1], MODEL)
        p = Path(text).expanduser()
        if p.is_file() or p.is_dir():
            return resolve_checkpoint(text, MODEL)
    except SolverError as exc:
        raise SolverError(f"heatmap {name!r}: {exc}") from None
    raise SolverError(f"heatmap {name!r}: expected deepaco:<checkpoint> (a .pt file of vrp train --model deepaco, "
                      "its run folder, or a shipped name deepaco:<problem><size>) or a path to such a file")


class Heatmap:
    """A DeepACO heatmap network, loaded on first use (or in :meth:`load`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = resolve(name)
        self._meta: dict[str, Any] | None = None

    @property
    def meta(self) -> dict[str, Any]:
        """The checkpoint's metadata (weights-only load; checked to be a DeepACO heatmap)."""
        if self._meta is None:
            from solvers.neural.checkpoints import load_policy

            meta = load_policy(str(self.path))[1]
            if meta.get("model") != MODEL:
                raise SolverError(f"heatmap {self.name!r}: {self.path} is a {meta.get('model')} checkpoint, "
                                  f"not a {MODEL} heatmap (train one with vrp train --model {MODEL})")
            self._meta = meta
        return self._meta

    @property
    def problem(self) -> str:
        return str(self.meta["problem"])

    def check(self, instance: Instance) -> None:
        """Every reason the network cannot give ``instance`` a heatmap, before any work."""
        from solvers.neural.checkpoints import meta_variants

        variants = meta_variants(self.meta)
        if instance.variant not in variants:
            raise UnsupportedVariant(f"heatmap {self.name!r}: trained on {self.problem}, instance {instance.name} "
                                     f"is {instance.variant!r}")
        if instance.coords is None:
            raise SolverError(f"heatmap {self.name!r}: instance {instance.name} has only a distance matrix; "
                              "the heatmap network reads node coordinates")

    def load(self) -> float:
        """Load the network and run it once on a tiny instance (outside any time limit); seconds taken."""
        import time

        from envs.generate import generate

        t0 = time.perf_counter()
        _ = self.meta
        self(generate(self.problem, 10, seed=0))
        return time.perf_counter() - t0

    def __call__(self, instance: Instance) -> np.ndarray:
        """The ``n x n`` heatmap of ``instance`` in its own node order (rows: from, columns: to)."""
        import torch

        from envs.adapters import get_problem, to_tensordict
        from solvers.neural.checkpoints import load_policy
        from solvers.neural.decode import env_for

        self.check(instance)
        policy, meta = load_policy(str(self.path))
        problem = str(meta["problem"])
        td, _ = to_tensordict([instance], problem=problem)
        env = env_for(problem, get_problem(problem).size_of(instance))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                logits, _ = policy.encoder(env.reset(td))
        finally:
            torch.set_num_threads(threads)
        h = logits[0].exp().double().numpy()
        # the network's node order: tsp keeps the instance's; cvrp puts the depot first, then the customers
        order = np.arange(instance.n) if problem == "tsp" else np.concatenate(
            ([instance.depot], np.asarray(instance.customers, dtype=np.int64)))
        out = np.zeros((instance.n, instance.n))
        out[np.ix_(order, order)] = h
        np.fill_diagonal(out, 0.0)
        return out
