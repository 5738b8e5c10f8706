"""Reading and writing instances and solutions.

Formats read: TSPLIB ``.tsp``/``.atsp`` (EUC_2D, CEIL_2D, ATT, GEO and EXPLICIT
matrices in FULL_MATRIX, UPPER_ROW, LOWER_ROW, UPPER_DIAG_ROW, LOWER_DIAG_ROW),
CVRPLIB ``.vrp``, Solomon ``.txt`` (VRPTW), our JSON, and a customers CSV with an
optional distance-matrix CSV. Solutions: CVRPLIB ``.sol``, TSPLIB ``.opt.tour``
and our JSON; written as ``.sol`` (readable by ``vrplib.read_solution``) or JSON.

Parsers are pure functions of text; they raise :class:`FormatError`, which names
the file and the line.

Rounding conventions (``--rounding`` overrides them for coordinate instances):
TSPLIB and CVRPLIB EUC_2D round each edge to the nearest integer (``nint``),
CEIL_2D rounds up (``ceil``), Solomon truncates each edge to one decimal
(``dimacs``), generated instances and user data keep floats (``exact``).
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vrp import data
from vrp.model import ROUNDINGS, Instance, InstanceError, Solution

JSON_FORMAT = "vrp-toolkit/instance"
JSON_SOLUTION_FORMAT = "vrp-toolkit/solution"


class FormatError(ValueError):
    """A file cannot be read: names the file and, where known, the line."""

    def __init__(self, path: str | os.PathLike[str], message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------- reading instances


def read(source: str | os.PathLike[str], *, rounding: str | None = None) -> Instance:
    """Read an instance from a file path or a shipped dataset name.

    Parameters
    ----------
    source
        A path (``.tsp``, ``.atsp``, ``.vrp``, Solomon ``.txt``, ``.json``, ``.csv``)
        or the name of a shipped instance (``berlin52``, ``X-n101-k25``, ``C101``).
    rounding
        Override the format's rounding convention: ``nint``, ``ceil``, ``dimacs``
        or ``exact`` (coordinate instances only).
    """
    if rounding is not None and rounding not in ROUNDINGS:
        raise FormatError(str(source), f"unknown rounding {rounding!r} (valid: {', '.join(ROUNDINGS)})")
    path = Path(source)
    if not path.exists():
        if path.suffix or os.sep in str(source) or "/" in str(source):
            raise FormatError(str(source), "no such file")
        try:
            path = data.find(str(source))
        except data.DataError as exc:
            raise FormatError(str(source), str(exc).replace(f"{source!r}", "this name")) from None
    if path.is_dir():
        raise FormatError(str(path), "is a directory, not an instance file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(str(path), f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        inst = parse_json(text, str(path))
    elif suffix == ".csv":
        inst = parse_customers_csv(text, str(path))
    elif suffix in (".tsp", ".atsp", ".vrp") or _looks_tsplib(text):
        inst = parse_tsplib(text, str(path))
    elif _looks_solomon(text):
        inst = parse_solomon(text, str(path))
    else:
        raise FormatError(str(path), "unrecognised format (expected TSPLIB/CVRPLIB, Solomon, JSON or CSV)")
    if rounding is not None and rounding != inst.rounding:
        if inst.metric != "euclidean":
            raise FormatError(str(path), f"--rounding applies to Euclidean coordinate instances, not {inst.metric}")
        inst = _wrap(str(path), lambda: inst.replace(rounding=rounding))
    return inst


def _wrap(path: str, build: Any, line: int | None = None) -> Instance:
    try:
        return build()
    except InstanceError as exc:
        raise FormatError(path, str(exc), line) from None


def _looks_tsplib(text: str) -> bool:
    return bool(re.search(r"^\s*(NAME|TYPE|DIMENSION)\s*:", text, re.MULTILINE))


def _looks_solomon(text: str) -> bool:
    return "VEHICLE" in text.upper() and "CUSTOMER" in text.upper()


def _number(tok: str, path: str, line: int, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise FormatError(path, f"{what}: expected a number, got {tok!r}", line) from None
    if not math.isfinite(v):
        raise FormatError(path, f"{what}: non-finite value {tok!r}", line)
    return v


_SECTION = re.compile(r"^\s*([A-Z_]+_SECTION|EOF)\s*:?\s*(.*)$")
_SPEC = re.compile(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$")
_EXPLICIT_FORMATS = ("FULL_MATRIX", "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW", "LOWER_DIAG_ROW")
_SPEC_KEYS = {"NAME", "TYPE", "COMMENT", "DIMENSION", "CAPACITY", "EDGE_WEIGHT_TYPE", "EDGE_WEIGHT_FORMAT",
              "EDGE_DATA_FORMAT", "NODE_COORD_TYPE", "DISPLAY_DATA_TYPE", "VEHICLES", "DISTANCE",
              "SERVICE_TIME"}


def _tsplib_blocks(text: str, path: str) -> tuple[dict[str, tuple[str, int]], dict[str, list[tuple[str, int]]]]:
    """Split a TSPLIB text into specification entries and sections of (token, line) pairs."""
    specs: dict[str, tuple[str, int]] = {}
    sections: dict[str, list[tuple[str, int]]] = {}
    current: list[tuple[str, int]] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        sec = _SECTION.match(line)
        if sec:
            name = sec.group(1)
            if name == "EOF":
                current = None
                break
            current = sections.setdefault(name, [])
            current.extend((t, lineno) for t in sec.group(2).split())
            continue
        spec = _SPEC.match(line)
        if spec and spec.group(1) in _SPEC_KEYS:
            specs[spec.group(1)] = (spec.group(2), lineno)
            current = None
            continue
        if current is None:
            raise FormatError(path, f"unexpected line {line[:40]!r} outside any section", lineno)
        current.extend((t, lineno) for t in line.split())
    return specs, sections


def parse_tsplib(text: str, path: str = "<text>") -> Instance:
    """Parse a TSPLIB ``.tsp``/``.atsp`` or CVRPLIB ``.vrp`` text."""
    specs, sections = _tsplib_blocks(text, path)
    if "DIMENSION" not in specs:
        raise FormatError(path, "missing DIMENSION")
    dim_tok, dim_line = specs["DIMENSION"]
    dim = _number(dim_tok, path, dim_line, "DIMENSION")
    if dim != int(dim) or dim < 2:
        raise FormatError(path, f"DIMENSION must be an integer >= 2, got {dim_tok!r}", dim_line)
    n = int(dim)
    name = specs.get("NAME", (Path(path).stem, 0))[0] or Path(path).stem
    name = name.split()[0] if name.split() else Path(path).stem
    ptype = specs.get("TYPE", ("TSP", 0))[0].upper().split()[0] if specs.get("TYPE", ("TSP", 0))[0] else "TSP"
    ewt, ewt_line = specs.get("EDGE_WEIGHT_TYPE", ("EUC_2D", 0))
    ewt = ewt.upper()

    coords = None
    if "NODE_COORD_SECTION" in sections:
        coords = _node_table(sections["NODE_COORD_SECTION"], n, 2, path, "NODE_COORD_SECTION", extra_cols_ok=True)

    kw: dict[str, Any] = {"name": name}
    if ewt in ("EUC_2D", "CEIL_2D", "ATT", "GEO"):
        if coords is None:
            raise FormatError(path, f"EDGE_WEIGHT_TYPE {ewt} needs a NODE_COORD_SECTION")
        kw.update(coords=coords, distances=None,
                  metric={"EUC_2D": "euclidean", "CEIL_2D": "euclidean", "ATT": "att", "GEO": "geo"}[ewt],
                  rounding="ceil" if ewt == "CEIL_2D" else ("nint" if ewt == "EUC_2D" else "exact"))
    elif ewt == "EXPLICIT":
        fmt, fmt_line = specs.get("EDGE_WEIGHT_FORMAT", ("FULL_MATRIX", 0))
        fmt = fmt.upper()
        if fmt not in _EXPLICIT_FORMATS:
            raise FormatError(path, f"unsupported EDGE_WEIGHT_FORMAT {fmt!r}", fmt_line or None)
        if "EDGE_WEIGHT_SECTION" not in sections:
            raise FormatError(path, "EXPLICIT weights need an EDGE_WEIGHT_SECTION")
        kw.update(distances=_explicit_matrix(sections["EDGE_WEIGHT_SECTION"], n, fmt, path), coords=coords,
                  metric="explicit", rounding="exact")
    else:
        raise FormatError(path, f"unsupported EDGE_WEIGHT_TYPE {ewt!r}", ewt_line or None)

    depot = 0
    if "DEPOT_SECTION" in sections:
        toks = sections["DEPOT_SECTION"]
        if not toks:
            raise FormatError(path, "empty DEPOT_SECTION")
        d = _number(toks[0][0], path, toks[0][1], "DEPOT_SECTION")
        if d != int(d) or not 1 <= d <= n:
            raise FormatError(path, f"DEPOT_SECTION: depot {toks[0][0]} is not a node in 1..{n}", toks[0][1])
        depot = int(d) - 1
    kw["depot"] = depot

    if "DEMAND_SECTION" in sections or ptype in ("CVRP", "OVRP", "HCVRP"):
        if "DEMAND_SECTION" not in sections:
            raise FormatError(path, f"TYPE {ptype} needs a DEMAND_SECTION")
        if "CAPACITY" not in specs:
            raise FormatError(path, "DEMAND_SECTION given but no CAPACITY")
        cap_tok, cap_line = specs["CAPACITY"]
        kw["capacity"] = _number(cap_tok, path, cap_line, "CAPACITY")
        if kw["capacity"] <= 0:
            raise FormatError(path, f"CAPACITY must be positive, got {cap_tok}", cap_line)
        kw["demands"] = _node_table(sections["DEMAND_SECTION"], n, 1, path, "DEMAND_SECTION")[:, 0]
        if "VEHICLES" in specs:
            v_tok, v_line = specs["VEHICLES"]
            kw["num_vehicles"] = int(_number(v_tok, path, v_line, "VEHICLES"))
        kw["open_routes"] = ptype == "OVRP"
    return _wrap(path, lambda: Instance(**kw))


def _node_table(toks: list[tuple[str, int]], n: int, cols: int, path: str, section: str,
                extra_cols_ok: bool = False) -> np.ndarray:
    """Rows ``id v1 .. vcols`` for nodes 1..n (ids in order), grouped by line."""
    lines: dict[int, list[str]] = {}
    for t, ln in toks:
        lines.setdefault(ln, []).append(t)
    rows = list(lines.items())
    if len(rows) != n:
        last = rows[-1][0] if rows else None
        raise FormatError(path, f"{section}: expected {n} rows, found {len(rows)}", last)
    out = np.empty((n, cols))
    for i, (ln, parts) in enumerate(rows):
        if len(parts) < cols + 1 or (len(parts) > cols + 1 and not extra_cols_ok):
            raise FormatError(path, f"{section}: expected {cols + 1} values on the line, got {len(parts)}", ln)
        node = _number(parts[0], path, ln, section)
        if node != i + 1:
            raise FormatError(path, f"{section}: expected node {i + 1}, got {parts[0]}", ln)
        for c in range(cols):
            out[i, c] = _number(parts[1 + c], path, ln, section)
    return out


def _explicit_matrix(toks: list[tuple[str, int]], n: int, fmt: str, path: str) -> np.ndarray:
    counts = {"FULL_MATRIX": n * n, "UPPER_ROW": n * (n - 1) // 2, "LOWER_ROW": n * (n - 1) // 2,
              "UPPER_DIAG_ROW": n * (n + 1) // 2, "LOWER_DIAG_ROW": n * (n + 1) // 2}
    need = counts[fmt]
    if len(toks) != need:
        where = toks[-1][1] if toks else None
        raise FormatError(path, f"EDGE_WEIGHT_SECTION: {fmt} of dimension {n} needs {need} numbers, found {len(toks)}",
                          where)
    vals = np.array([_number(t, path, ln, "EDGE_WEIGHT_SECTION") for t, ln in toks])
    m = np.zeros((n, n))
    if fmt == "FULL_MATRIX":
        m = vals.reshape(n, n).copy()
    else:
        diag = "DIAG" in fmt
        if fmt.startswith("UPPER"):
            rows, cols = np.triu_indices(n, 0 if diag else 1)
        else:
            rows, cols = np.tril_indices(n, 0 if diag else -1)
        m[rows, cols] = vals
        m[cols, rows] = vals
    np.fill_diagonal(m, 0.0)
    return m


def parse_solomon(text: str, path: str = "<text>") -> Instance:
    """Parse a Solomon VRPTW ``.txt`` (DIMACS rounding: each edge truncated to one decimal)."""
    lines = text.splitlines()
    name = next((ln.strip() for ln in lines if ln.strip()), Path(path).stem)
    vehicles = capacity = None
    rows: list[list[float]] = []
    row_lines: list[int] = []
    state = "head"
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        up = line.upper()
        if not line:
            continue
        if up.startswith("VEHICLE"):
            state = "vehicle"
            continue
        if up.startswith("CUSTOMER"):
            state = "customer"
            continue
        if up.startswith("NUMBER") or up.startswith("CUST"):
            continue
        parts = line.split()
        if state == "vehicle":
            if len(parts) != 2:
                raise FormatError(path, f"VEHICLE: expected 'number capacity', got {line!r}", lineno)
            vehicles = _number(parts[0], path, lineno, "vehicle number")
            capacity = _number(parts[1], path, lineno, "capacity")
            state = "after-vehicle"
        elif state == "customer":
            if len(parts) != 7:
                raise FormatError(path, f"CUSTOMER: expected 7 columns, got {len(parts)}", lineno)
            vals = [_number(p, path, lineno, "CUSTOMER") for p in parts]
            if int(vals[0]) != len(rows):
                raise FormatError(path, f"CUSTOMER: expected customer {len(rows)}, got {parts[0]}", lineno)
            rows.append(vals)
            row_lines.append(lineno)
    if vehicles is None or capacity is None:
        raise FormatError(path, "missing VEHICLE section (number and capacity)")
    if len(rows) < 2:
        raise FormatError(path, f"CUSTOMER section needs the depot and at least one customer, found {len(rows)} rows")
    if vehicles != int(vehicles) or vehicles < 1:
        raise FormatError(path, f"vehicle number must be a positive integer, got {vehicles:g}")
    arr = np.array(rows)
    kw: dict[str, Any] = {"name": name.split()[0], "coords": arr[:, 1:3], "distances": None, "metric": "euclidean",
          "rounding": "dimacs", "demands": arr[:, 3], "capacity": capacity, "num_vehicles": int(vehicles),
          "time_windows": arr[:, 4:6], "service_times": arr[:, 6]}
    return _wrap(path, lambda: Instance(**kw))


# --------------------------------------------------------------------------- our JSON and CSV

_ARRAY_FIELDS = ("coords", "distances", "demands", "vehicle_capacities", "time_windows", "service_times",
                 "prizes", "penalties")
_SCALAR_FIELDS = ("name", "depot", "capacity", "num_vehicles", "open_routes", "max_length", "min_prize",
                  "rounding", "metric")


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """Our JSON schema (lossless): distances are stored only when they cannot be recomputed."""
    out: dict[str, Any] = {"format": JSON_FORMAT, "version": 1, "variant": instance.variant}
    for f in _SCALAR_FIELDS:
        out[f] = getattr(instance, f)
    for f in _ARRAY_FIELDS:
        v = getattr(instance, f)
        if f == "distances" and instance.metric != "explicit" and instance.coords is not None:
            continue
        out[f] = None if v is None else v.tolist()
    return {k: v for k, v in out.items() if v is not None and v is not False}


def instance_from_dict(obj: Any, path: str = "<json>") -> Instance:
    if not isinstance(obj, dict):
        raise FormatError(path, "expected a JSON object")
    fmt = obj.get("format", JSON_FORMAT)
    if fmt != JSON_FORMAT:
        raise FormatError(path, f"not a vrp-toolkit instance (format {fmt!r})")
    known = set(_ARRAY_FIELDS) | set(_SCALAR_FIELDS) | {"format", "version", "variant"}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise FormatError(path, f"unknown field {unknown[0]!r}")
    kw = {k: obj[k] for k in obj if k not in ("format", "version", "variant")}
    kw.setdefault("name", Path(path).stem)
    kw.setdefault("distances", None)
    if kw.get("distances") is None and kw.get("coords") is not None:
        kw.setdefault("metric", "euclidean")
    inst = _wrap(path, lambda: Instance(**kw))
    if "variant" in obj and obj["variant"] != inst.variant:
        raise FormatError(path, f"variant says {obj['variant']!r} but the fields make a {inst.variant!r}")
    return inst


def parse_json(text: str, path: str = "<json>") -> Instance:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    return instance_from_dict(obj, path)


def instance_to_json(instance: Instance) -> str:
    return json.dumps(instance_to_dict(instance))


def write_instance(path: str | os.PathLike[str], instance: Instance) -> None:
    """Write our JSON atomically."""
    atomic_write(path, instance_to_json(instance) + "\n")


_CSV_COLUMNS = ("id", "x", "y", "demand", "ready", "due", "service", "prize")


def parse_customers_csv(text: str, path: str = "<csv>", *, capacity: float | None = None,
                        num_vehicles: int | None = None, matrix_text: str | None = None,
                        matrix_path: str = "<matrix>", rounding: str = "exact") -> Instance:
    """Customers CSV ``id,x,y,demand[,ready,due,service,prize]``; the first row is the depot.

    Without ``capacity`` the instance is a TSP (demands ignored unless all zero);
    an optional square distance-matrix CSV replaces Euclidean distances.
    """
    reader = csv.reader(_io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise FormatError(path, "empty CSV", 1) from None
    if header[:4] != list(_CSV_COLUMNS[:4]) or any(h not in _CSV_COLUMNS for h in header):
        raise FormatError(path, f"header must be {','.join(_CSV_COLUMNS[:4])}[,ready,due,service,prize], got "
                          f"{','.join(header)}", 1)
    cols: dict[str, list[float]] = {h: [] for h in header}
    for lineno, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(header):
            raise FormatError(path, f"expected {len(header)} columns, got {len(row)}", lineno)
        for h, v in zip(header, row):
            cols[h].append(_number(v.strip(), path, lineno, h))
    n = len(cols["id"])
    if n < 2:
        raise FormatError(path, f"need a depot row and at least one customer, got {n} rows")
    kw: dict[str, Any] = {"name": Path(path).stem, "coords": np.column_stack([cols["x"], cols["y"]]),
                          "distances": None, "metric": "euclidean", "rounding": rounding}
    if matrix_text is not None:
        rows = [r for r in csv.reader(_io.StringIO(matrix_text)) if r and "".join(r).strip()]
        mat = []
        for i, r in enumerate(rows, start=1):
            if len(r) != len(rows):
                raise FormatError(matrix_path, f"matrix must be square: row has {len(r)} values, expected "
                                  f"{len(rows)}", i)
            mat.append([_number(v.strip(), matrix_path, i, "matrix") for v in r])
        if len(mat) != n:
            raise FormatError(matrix_path, f"matrix has {len(mat)} rows for {n} customers rows")
        kw.update(distances=np.array(mat), metric="explicit", rounding="exact")
    demands = np.array(cols["demand"])
    if capacity is not None:
        kw.update(demands=demands, capacity=capacity, num_vehicles=num_vehicles)
        if "ready" in cols and "due" in cols:
            kw["time_windows"] = np.column_stack([cols["ready"], cols["due"]])
            kw["service_times"] = np.array(cols["service"]) if "service" in cols else None
    elif demands.any():
        raise FormatError(path, "the CSV has demands: give the vehicle capacity (--capacity)")
    return _wrap(path, lambda: Instance(**kw))


def read_customers_csv(path: str | os.PathLike[str], *, matrix: str | os.PathLike[str] | None = None,
                       capacity: float | None = None, num_vehicles: int | None = None,
                       rounding: str = "exact") -> Instance:
    """Read a customers CSV (and optional distance-matrix CSV) from disk."""
    def load(p: str | os.PathLike[str]) -> str:
        try:
            return Path(p).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise FormatError(str(p), f"cannot be read ({exc})") from None
    return parse_customers_csv(load(path), str(path), capacity=capacity, num_vehicles=num_vehicles,
                               matrix_text=load(matrix) if matrix else None, matrix_path=str(matrix),
                               rounding=rounding)


# --------------------------------------------------------------------------- solutions


def parse_sol(text: str, path: str = "<sol>") -> tuple[Solution, float | None]:
    """CVRPLIB ``.sol``: ``Route #k: v1 v2 ...`` lines and an optional ``Cost`` line."""
    routes: list[list[int]] = []
    cost = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        m = re.match(r"^Route\s*#\s*\d+\s*:(.*)$", line, re.IGNORECASE)
        if m:
            route = []
            for tok in m.group(1).split():
                v = _number(tok, path, lineno, "route")
                if v != int(v):
                    raise FormatError(path, f"route: node {tok!r} is not an integer", lineno)
                route.append(int(v))
            routes.append(route)
        elif line.lower().startswith("cost"):
            parts = line.split()
            if len(parts) < 2:
                raise FormatError(path, "Cost line without a value", lineno)
            cost = _number(parts[1], path, lineno, "Cost")
        else:
            continue  # other lines (Time, comments) are allowed and ignored
    if not routes:
        raise FormatError(path, "no 'Route #k:' lines found")
    return Solution(routes), cost


def parse_tour(text: str, path: str = "<tour>", depot: int = 0) -> Solution:
    """TSPLIB ``.opt.tour``: 1-based node ids in TOUR_SECTION, ending with -1."""
    specs, sections = _tsplib_blocks(text, path)
    toks = sections.get("TOUR_SECTION")
    if not toks:
        raise FormatError(path, "missing TOUR_SECTION")
    tour = []
    for t, ln in toks:
        v = _number(t, path, ln, "TOUR_SECTION")
        if v == -1:
            break
        if v != int(v) or v < 1:
            raise FormatError(path, f"TOUR_SECTION: {t!r} is not a node id", ln)
        tour.append(int(v) - 1)
    return Solution.from_tour(tour, depot)


def solution_from_dict(obj: Any, path: str = "<json>") -> Solution:
    if not isinstance(obj, dict) or not isinstance(obj.get("routes"), list):
        raise FormatError(path, "a JSON solution needs a 'routes' list")
    try:
        return Solution(obj["routes"])
    except InstanceError as exc:
        raise FormatError(path, str(exc)) from None


def read_solution(path: str | os.PathLike[str], instance: Instance | None = None) -> Solution:
    """Read a ``.sol``, ``.opt.tour``/``.tour`` or our JSON solution."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise FormatError(str(p), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(str(p), f"cannot be read ({exc})") from None
    depot = instance.depot if instance is not None else 0
    if p.suffix.lower() == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(str(p), f"invalid JSON: {exc.msg}", exc.lineno) from None
        sol = solution_from_dict(obj, str(p))
    elif p.name.lower().endswith(".tour") or "TOUR_SECTION" in text:
        sol = parse_tour(text, str(p), depot)
    else:
        sol, _ = parse_sol(text, str(p))
    if instance is not None:
        for r, route in enumerate(sol.routes, start=1):
            for v in route:
                if not 0 <= v < instance.n:
                    raise FormatError(str(p), f"route {r} names node {v}, which does not exist "
                                      f"(nodes are 0..{instance.n - 1})")
    return sol


def _fmt_num(x: float) -> str:
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.6g}" if abs(x) < 1e6 else f"{x:.1f}"


def solution_to_sol(solution: Solution, cost: float | None = None) -> str:
    """CVRPLIB ``.sol`` text (empty routes are kept as empty lines only for hcvrp vehicle order)."""
    lines = [f"Route #{k}: {' '.join(map(str, r))}" for k, r in enumerate(solution.routes, start=1)]
    if cost is not None:
        lines.append(f"Cost {_fmt_num(cost)}")
    return "\n".join(lines) + "\n"


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write via a temporary file and rename, so a failure never leaves a partial file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=str(p.parent or "."))
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_solution(path: str | os.PathLike[str], solution: Solution, *, cost: float | None = None,
                   extra: dict[str, Any] | None = None) -> None:
    """Write a solution as ``.sol`` (any suffix but ``.json``) or as our JSON."""
    if Path(path).suffix.lower() == ".json":
        obj = {"format": JSON_SOLUTION_FORMAT, **(extra or {}), "routes": [list(r) for r in solution.routes]}
        if cost is not None:
            obj.setdefault("cost", cost)
        atomic_write(path, json.dumps(obj, indent=1) + "\n")
    else:
        atomic_write(path, solution_to_sol(solution, cost))


def iter_instance_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    for f in sorted(Path(folder).iterdir()):
        if f.suffix.lower() in data.INSTANCE_SUFFIXES and not f.name.endswith((".opt.tour", ".sol")):
            yield f
