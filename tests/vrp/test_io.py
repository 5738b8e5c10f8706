from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vrplib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envs.generate import PROBLEMS, generate
from vrp import data, io
from vrp.model import Instance, Solution

ALL = data.names()
SAMPLE_FILES = [data.find(n) for n in ("burma14", "ulysses22", "att48", "ftv33", "P-n16-k8", "C101", "A-n32-k5")]


@pytest.mark.parametrize("name", ALL)
def test_json_round_trip_of_every_shipped_file(name: str, tmp_path: Path) -> None:
    inst = io.read(name)
    path = tmp_path / "x.json"
    io.write_instance(path, inst)
    assert io.read(path) == inst


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(PROBLEMS), st.integers(2, 15), st.integers(0, 10_000), st.sampled_from(["uniform", "clustered", "mixed"]))
def test_json_round_trip_generated(problem: str, size: int, seed: int, dist: str) -> None:
    inst = generate(problem, size, seed=seed, distribution=dist)
    back = io.parse_json(io.instance_to_json(inst))
    assert back == inst
    assert back.variant == problem


def test_names_resolve_case_insensitively() -> None:
    assert io.read("x-n101-k25").name == "X-n101-k25"
    assert io.read("c101").variant == "vrptw"


def test_conventions() -> None:
    assert io.read("berlin52").rounding == "nint"
    assert io.read("C101").rounding == "dimacs"
    assert io.read("C101").num_vehicles == 25
    assert io.read("X-n101-k25").num_vehicles is None
    assert io.read("att48").metric == "att"
    assert io.read("ulysses22").metric == "geo"
    assert io.read("ftv33").variant == "atsp"
    assert io.read("berlin52", rounding="exact").distances[0, 1] != io.read("berlin52").distances[0, 1]


EXPLICIT = {
    "FULL_MATRIX": "0 1 2\n1 0 3\n2 3 0",
    "UPPER_ROW": "1 2\n3",
    "LOWER_ROW": "1\n2 3",
    "UPPER_DIAG_ROW": "0 1 2\n0 3\n0",
    "LOWER_DIAG_ROW": "0\n1 0\n2 3 0",
}


@pytest.mark.parametrize("fmt", sorted(EXPLICIT))
def test_explicit_formats(fmt: str) -> None:
    text = (f"NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: {fmt}\n"
            f"EDGE_WEIGHT_SECTION\n{EXPLICIT[fmt]}\nEOF\n")
    inst = io.parse_tsplib(text, "t.tsp")
    assert inst.distances.tolist() == [[0, 1, 2], [1, 0, 3], [2, 3, 0]]


def test_ceil_2d() -> None:
    text = "NAME: c\nTYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: CEIL_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n"
    assert io.parse_tsplib(text).distances[0, 1] == 2


def test_sol_written_is_read_by_vrplib(tmp_path: Path) -> None:
    sol = Solution([[1, 2, 3], [4, 5]])
    path = tmp_path / "s.sol"
    io.write_solution(path, sol, cost=123)
    back = vrplib.read_solution(str(path))
    assert [list(r) for r in back["routes"]] == [[1, 2, 3], [4, 5]]
    assert back["cost"] == 123
    assert io.read_solution(path) == sol
    io.write_solution(tmp_path / "s.json", sol, cost=123)
    assert io.read_solution(tmp_path / "s.json") == sol


def test_customers_csv(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("id,x,y,demand\n0,0,0,0\n1,3,4,2\n2,6,8,3\n")
    inst = io.read_customers_csv(tmp_path / "c.csv", capacity=4)
    assert inst.variant == "cvrp" and inst.distances[0, 1] == 5
    (tmp_path / "m.csv").write_text("0,1,2\n2,0,1\n1,1,0\n")
    inst = io.read_customers_csv(tmp_path / "c.csv", capacity=10, matrix=tmp_path / "m.csv")
    assert inst.distances[1, 0] == 2 and inst.metric == "explicit"
    with pytest.raises(io.FormatError, match="capacity"):
        io.read_customers_csv(tmp_path / "c.csv")


def _corruptions(text: str, draw: st.DataObject) -> str:
    kind = draw.draw(st.sampled_from(["truncate", "delete_line", "replace_token", "insert_garbage", "dup_line"]))
    lines = text.splitlines()
    if kind == "truncate":
        return text[: draw.draw(st.integers(0, len(text)))]
    i = draw.draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "delete_line":
        return "\n".join(lines[:i] + lines[i + 1:])
    if kind == "dup_line":
        return "\n".join(lines[: i + 1] + lines[i:])
    if kind == "insert_garbage":
        junk = draw.draw(st.sampled_from(["nan", "-1", "abc", "1e400", "", ":", "NODE_COORD_SECTION", "EOF", "-5 -5",
                                          "DIMENSION : 3", "CAPACITY : 0", "0.5"]))
        return "\n".join(lines[:i] + [junk] + lines[i:])
    toks = lines[i].split() if lines else []
    if not toks:
        return text
    j = draw.draw(st.integers(0, len(toks) - 1))
    toks[j] = draw.draw(st.sampled_from(["nan", "inf", "-3", "x", "999999", "0", "1.5"]))
    return "\n".join(lines[:i] + [" ".join(toks)] + lines[i + 1:])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLE_FILES), st.data())
def test_corrupted_files_give_format_error_or_valid_instance(path: Path, draw: st.DataObject) -> None:
    text = _corruptions(path.read_text(), draw)
    try:
        if path.suffix == ".txt":
            inst = io.parse_solomon(text, str(path))
        else:
            inst = io.parse_tsplib(text, str(path))
    except io.FormatError as exc:
        assert str(path) in str(exc)
        return
    assert isinstance(inst, Instance)
    assert np.isfinite(inst.distances).all()


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_corrupted_json_and_solutions(draw: st.DataObject) -> None:
    inst = generate("vrptw", 5, seed=1)
    text = _corruptions(io.instance_to_json(inst), draw)
    try:
        io.parse_json(text, "x.json")
    except io.FormatError as exc:
        assert "x.json" in str(exc)
    sol_text = _corruptions("Route #1: 1 2 3\nRoute #2: 4 5\nCost 10\n", draw)
    try:
        io.parse_sol(sol_text, "x.sol")
    except io.FormatError as exc:
        assert "x.sol" in str(exc)


def test_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vrp"
    text = data.find("P-n16-k8").read_text().replace("2 37 52", "2 37 nan")
    bad.write_text(text)
    with pytest.raises(io.FormatError, match=r"bad.vrp:9: NODE_COORD_SECTION"):
        io.read(bad)
    with pytest.raises(io.FormatError, match="no such file"):
        io.read(tmp_path / "missing.vrp")
    with pytest.raises(io.FormatError, match="no file and no dataset"):
        io.read("nonexistent-instance")
