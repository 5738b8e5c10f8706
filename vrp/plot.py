"""Route plots (matplotlib, imported lazily)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vrp.model import Instance, Solution


def _layout(instance: Instance) -> np.ndarray:
    if instance.coords is not None:
        return np.asarray(instance.coords)
    # No coordinates (explicit matrix): classical multidimensional scaling for a faithful picture.
    d = np.asarray(instance.distances, dtype=float)
    d = (d + d.T) / 2
    n = d.shape[0]
    j = np.eye(n) - np.ones((n, n)) / n
    b = -0.5 * j @ (d**2) @ j
    vals, vecs = np.linalg.eigh(b)
    idx = np.argsort(vals)[::-1][:2]
    return vecs[:, idx] * np.sqrt(np.maximum(vals[idx], 0))


def plot_solution(instance: Instance, solution: Solution, path: str | os.PathLike[str], *, title: str = "") -> None:
    """Draw the routes (depot as a red square; skipped nodes hollow) and save to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = _layout(instance)
    depot = instance.depot
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    cmap = plt.get_cmap("tab20")
    for k, route in enumerate(r for r in solution.routes if r):
        seq = [depot, *route] + ([] if instance.open_routes else [depot])
        pts = xy[seq]
        ax.plot(pts[:, 0], pts[:, 1], "-", lw=1.2, color=cmap(k % 20), alpha=0.9)
        ax.scatter(xy[list(route), 0], xy[list(route), 1], s=14, color=cmap(k % 20), zorder=3)
    visited = set(solution.visited)
    skipped = [i for i in instance.customers if int(i) not in visited]
    if skipped:
        ax.scatter(xy[skipped, 0], xy[skipped, 1], s=14, facecolors="none", edgecolors="grey", zorder=2,
                   label="skipped")
        ax.legend(loc="best")
    ax.scatter([xy[depot, 0]], [xy[depot, 1]], marker="s", s=90, color="red", zorder=4, label="depot")
    ax.set_title(title or instance.name, fontsize=10)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    tmp = Path(path).with_name(f".{Path(path).name}.tmp{Path(path).suffix}")
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
