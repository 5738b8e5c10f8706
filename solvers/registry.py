"""The registry of solvers by (problem family, name), imported lazily.

``get("ortools")`` imports OR-Tools only then; an unknown name lists the valid
ones; a solver whose optional extra is missing says which extra to install.
Names may carry an argument after a colon: ``am:tsp50``, ``am:runs/x/last.ckpt``, and a
label after ``@`` that only names a configured copy: ``ga@robust`` is ``ga`` (in ``vrp bench``
it gets its own rows and its own ``--option ga@robust:capacity_slack=0.1``).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import typing
from dataclasses import dataclass
from typing import Any

from vrp.result import SolverError

ROUTING = "routing"
NETWORK = "network"

ALL_ROUTING = frozenset({"tsp", "atsp", "cvrp", "ocvrp", "vrptw", "hcvrp", "op", "pctsp"})


@dataclass(frozen=True)
class SolverSpec:
    """How to find a solver without importing it."""

    name: str
    family: str
    target: str  # "module:Class"
    variants: frozenset[str]
    description: str
    requires: tuple[str, ...] = ()  # importable modules the solver needs
    extra: str | None = None  # pip extra that provides them
    takes_argument: bool = False  # name:ARG (checkpoints)
    #: Full names the conformance suite runs for a solver that takes an argument
    #: (e.g. ``("am:tsp20", "am:cvrp20")``: shipped checkpoints).
    examples: tuple[str, ...] = ()

    def installed(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.requires)


_SPECS: dict[tuple[str, str], SolverSpec] = {}


def register(spec: SolverSpec) -> None:
    _SPECS[(spec.family, spec.name)] = spec


def specs(family: str | None = None) -> list[SolverSpec]:
    return [s for (f, _), s in sorted(_SPECS.items()) if family is None or f == family]


def names(family: str = ROUTING) -> list[str]:
    return [s.name for s in specs(family)]


def unlabelled(name: str) -> str:
    """``ga@robust`` -> ``ga``: the solver a labelled name runs."""
    return name.split("@", 1)[0]


def spec(name: str, family: str = ROUTING) -> SolverSpec:
    base = unlabelled(name).split(":", 1)[0]
    found = _SPECS.get((family, base))
    if found is None:
        valid = ", ".join(s.name + (":<checkpoint>" if s.takes_argument else "") for s in specs(family))
        raise SolverError(f"unknown solver {name!r} for {family} problems (valid: {valid})")
    return found


def get(name: str, family: str = ROUTING, options: dict[str, Any] | None = None) -> Any:
    """Instantiate the solver called ``name`` with validated ``options``.

    Options given as strings (from the CLI) are converted to the types of the
    solver's parameter dataclass; unknown keys are an error naming the valid ones.
    """
    name = unlabelled(name)
    s = spec(name, family)
    arg = name.split(":", 1)[1] if ":" in name else None
    if s.takes_argument and not arg:
        raise SolverError(f"solver {s.name!r} needs an argument: {s.name}:<checkpoint>")
    if arg is not None and not s.takes_argument:
        raise SolverError(f"solver {s.name!r} takes no argument after ':' (got {name!r})")
    missing = [m for m in s.requires if importlib.util.find_spec(m) is None]
    if missing:
        hint = f'pip install "vrp-toolkit[{s.extra}]"' if s.extra else "pip install " + " ".join(missing)
        raise SolverError(f"solver {s.name!r} needs {', '.join(missing)}: {hint}")
    module_name, cls_name = s.target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    params_cls = getattr(cls, "Params", None)
    opts = dict(options or {})
    params = make_params(params_cls, opts, s.name) if params_cls is not None else None
    if params is None and opts:
        raise SolverError(f"solver {s.name!r} takes no options (got {', '.join(opts)})")
    kwargs: dict[str, Any] = {}
    if params is not None:
        kwargs["params"] = params
    if s.takes_argument:
        kwargs["argument"] = arg
    return cls(**kwargs)


def _convert(value: Any, typ: Any, key: str, solver: str) -> Any:
    if not isinstance(value, str):
        return value
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value.lower() in ("none", "null") and type(None) in args:
            return None
        typ = next(a for a in args if a is not type(None))
    try:
        if typ is bool:
            low = value.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if typ in (int, float, str):
            return typ(value)
    except ValueError:
        raise SolverError(f"option {key}={value!r} for solver {solver!r}: expected {typ.__name__}") from None
    return value


def make_params(params_cls: type, options: dict[str, Any], solver: str = "") -> Any:
    """Build the parameter dataclass from ``options``, converting and validating."""
    hints = typing.get_type_hints(params_cls)
    valid = {f.name for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise SolverError(
            f"unknown option {unknown[0]!r} for solver {solver!r} (valid: {', '.join(sorted(valid)) or 'none'})"
        )
    converted = {k: _convert(v, hints.get(k, str), k, solver) for k, v in options.items()}
    try:
        return params_cls(**converted)
    except (TypeError, ValueError) as exc:
        raise SolverError(f"bad option for solver {solver!r}: {exc}") from None
