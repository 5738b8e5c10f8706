from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envs.generate import PROBLEMS, generate
from vrp.model import Instance, InstanceError, Solution

COORDS = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 5.0]])


def test_variant_is_derived() -> None:
    base = {"name": "x", "coords": COORDS, "distances": None, "metric": "euclidean"}
    assert Instance(**base).variant == "tsp"
    dem = np.array([0, 1, 2, 3.0])
    assert Instance(**base, demands=dem, capacity=5).variant == "cvrp"
    assert Instance(**base, demands=dem, capacity=5, open_routes=True).variant == "ocvrp"
    assert Instance(**base, demands=dem, vehicle_capacities=[5, 6]).variant == "hcvrp"
    tw = np.array([[0, 100], [0, 50], [0, 50], [0, 50.0]])
    assert Instance(**base, demands=dem, capacity=5, time_windows=tw).variant == "vrptw"
    prizes = np.array([0, 1, 1, 1.0])
    assert Instance(**base, prizes=prizes, max_length=20).variant == "op"
    assert Instance(**base, prizes=prizes, penalties=prizes, min_prize=1).variant == "pctsp"
    d = np.array([[0, 1.0], [2.0, 0]])
    assert Instance(name="a", distances=d).variant == "atsp"


def test_arrays_are_read_only() -> None:
    inst = generate("cvrp", 5, seed=0)
    with pytest.raises(ValueError):
        inst.demands[1] = 3  # type: ignore[index]
    with pytest.raises(ValueError):
        inst.distances[0, 1] = 3


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"demands": [0, 1, 99, 1]}, "demands"),
        ({"demands": [0, -1, 1, 1]}, "demands"),
        ({"demands": [1, 1, 1, 1]}, "demands"),
        ({"demands": [0, 1, 1]}, "demands"),
        ({"coords": [[0, 0], [1, np.nan], [2, 2], [3, 3]]}, "coords"),
        ({"depot": 7}, "depot"),
        ({"num_vehicles": 0}, "num_vehicles"),
    ],
)
def test_validation_names_field_and_value(changes: dict, field: str) -> None:
    base = {"name": "x", "coords": COORDS, "distances": None, "metric": "euclidean", "demands": [0, 1, 2, 3],
            "capacity": 5}
    base.update(changes)
    with pytest.raises(InstanceError, match=field):
        Instance(**base)


def test_non_square_matrix() -> None:
    with pytest.raises(InstanceError, match="square"):
        Instance(name="x", distances=np.zeros((3, 4)))


def test_empty_time_window_rejected() -> None:
    with pytest.raises(InstanceError, match="time_windows"):
        Instance(name="x", coords=COORDS, distances=None, demands=[0, 1, 1, 1], capacity=5,
                 time_windows=[[0, 10], [5, 4], [0, 10], [0, 10]])


def test_rounding_conventions() -> None:
    c = np.array([[0.0, 0.0], [1.0, 1.0]])  # sqrt(2) = 1.4142
    d = {r: Instance(name="x", coords=c, distances=None, rounding=r).distances[0, 1]
         for r in ("nint", "ceil", "dimacs", "exact")}
    assert d["nint"] == 1 and d["ceil"] == 2 and d["dimacs"] == 1.4
    assert d["exact"] == pytest.approx(2**0.5)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(PROBLEMS), st.integers(2, 12), st.integers(0, 10_000))
def test_generators_validate_and_are_seeded(problem: str, size: int, seed: int) -> None:
    a = generate(problem, size, seed=seed)
    b = generate(problem, size, seed=seed)
    assert a == b
    assert a.variant == problem


def test_solution_from_tour_rotates_to_depot() -> None:
    assert Solution.from_tour([2, 3, 0, 1]).routes == ((1, 2, 3),)
