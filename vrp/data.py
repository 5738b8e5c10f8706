"""Where the shipped benchmark data lives, lookup by instance name, and best-known solutions.

The data folder is found, in order, from the ``VRP_DATA`` environment variable,
a source checkout (``datasets/`` beside the packages), or an installed wheel
(``<prefix>/share/vrp-toolkit/datasets``).
"""

from __future__ import annotations

import csv
import functools
import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

INSTANCE_SUFFIXES = (".tsp", ".atsp", ".vrp", ".txt", ".json")
GROUPS = {"tsplib": "tsplib", "cvrplib": "cvrplib", "solomon": "solomon"}


class DataError(LookupError):
    """A dataset name or the data folder cannot be found."""


@dataclass(frozen=True)
class BKSEntry:
    """A best-known solution value; ``optimal`` when it is a proven optimum."""

    name: str
    problem: str
    n_nodes: int
    value: float
    optimal: bool
    source: str


def _candidates() -> list[Path]:
    out = []
    env = os.environ.get("VRP_DATA")
    if env:
        out.append(Path(env))
    out.append(Path(__file__).resolve().parent.parent / "datasets")
    for base in {sys.prefix, sysconfig.get_paths().get("data", sys.prefix)}:
        out.append(Path(base) / "share" / "vrp-toolkit" / "datasets")
    return out


def data_dir() -> Path:
    """The datasets folder (raises :class:`DataError` when none is found)."""
    env = os.environ.get("VRP_DATA")
    if env and not (Path(env) / "BKS.csv").is_file():
        raise DataError(f"VRP_DATA={env} does not hold a datasets folder (no BKS.csv there)")
    for path in _candidates():
        if (path / "BKS.csv").is_file():
            return path
    raise DataError("no datasets folder found: set VRP_DATA to the datasets/ folder of vrp-toolkit")


@functools.lru_cache(maxsize=4)
def _index(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for sub in sorted(GROUPS.values()):
        folder = root / sub
        if not folder.is_dir():
            continue
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in INSTANCE_SUFFIXES and not f.name.endswith((".opt.tour", ".sol")):
                index.setdefault(f.stem.lower(), f)
    return index


def names(group: str | None = None) -> list[str]:
    """Names of the shipped instances (optionally of one group: tsplib, cvrplib, solomon)."""
    root = data_dir()
    idx = _index(root)
    return sorted(p.stem for p in idx.values() if group is None or p.parent.name == GROUPS.get(group, group))


def find(name: str) -> Path:
    """Path of a shipped instance given its name (case-insensitive: ``berlin52``, ``x-n101-k25``)."""
    root = data_dir()
    key = name.lower()
    for suffix in INSTANCE_SUFFIXES:
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    path = _index(root).get(key)
    if path is None:
        raise DataError(f"no file and no dataset named {name!r} (try `vrp info --list`)")
    return path


def reference_solution(name: str) -> Path | None:
    """The shipped ``.sol`` or ``.opt.tour`` of an instance, if there is one."""
    try:
        path = find(name)
    except DataError:
        return None
    for cand in (path.with_suffix(".sol"), path.parent / f"{path.stem}.opt.tour"):
        if cand.is_file():
            return cand
    return None


@functools.lru_cache(maxsize=4)
def _bks_table(root: Path) -> dict[str, BKSEntry]:
    table: dict[str, BKSEntry] = {}
    with open(root / "BKS.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            table[row["name"].lower()] = BKSEntry(
                name=row["name"], problem=row["problem"], n_nodes=int(row["n_nodes"]),
                value=float(row["bks"]), optimal=row["optimal"].strip().lower() in ("yes", "true", "1"),
                source=row["source"])
    return table


def bks(name: str) -> BKSEntry | None:
    """The best-known solution of a shipped instance, or None."""
    try:
        root = data_dir()
    except DataError:
        return None
    return _bks_table(root).get(name.lower())
