"""Neural constructive solvers ``am:``, ``pomo:`` and ``matnet:`` (rl4co policies).

The argument after the colon names a checkpoint (see :mod:`solvers.neural.checkpoints`):
a file from ``vrp train``, a shipped name (``am:op20``, ``am:mtvrp50``, ``matnet:atsp20``)
or a bare size (``am:50``: the shipped size-50 checkpoint of the instance's variant, the
multi-variant one for cvrp/ocvrp/vrptw where a variant has none of its own).

Decoding (options): ``decode=greedy`` (one rollout), ``decode=sampling`` with ``samples=N``
rollouts (plus the greedy one), ``decode=multistart`` (POMO: one greedy rollout from every
first node, plus the plain greedy one); ``augment=8`` runs each on the 8 symmetries of the
unit square (MatNet: 8 draws of its random column embeddings) and keeps the best. The best
rollout is chosen by the policy's own (unrounded) objective; the evaluator scores it as
always. A fleet limit the env does not model (Solomon's 25 vehicles) is enforced by
dropping candidates with more routes; with none left the solver reports no solution.

Search within the time limit (``search=``, instance by instance, each with the whole limit):
``none`` (decode once, batched; the default), ``ls`` (policy samples polished by the HGS local
search, :mod:`solvers.neural.search`; not op/pctsp) and ``eas`` (Efficient Active Search:
instance-specific embeddings or an added layer fine-tuned by REINFORCE plus imitation of the
incumbent, sampling until the time limit, :mod:`solvers.neural.eas`; every variant). Both
start from the chosen ``decode`` mode's solution, so neither is worse than plain decoding.

``solve_batch`` decodes many instances together (grouped by problem and size); each
result's ``runtime`` is the group's wall time divided by its size, which is the honest
per-instance time of batched inference (documented in ``vrp bench``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from envs.train import DEFAULT_DECODE
from solvers.base import BaseSolver
from solvers.neural.checkpoints import (
    SHIPPED,
    by_size,
    checkpoint_dir,
    covers,
    load_policy,
    meta_variants,
    resolve_checkpoint,
    sizes_for,
)
from solvers.neural.decode import FORBIDDEN, decode, env_for, fleet_limits
from solvers.neural.decompose import (
    DECOMPOSE_MODES,
    SECTOR_SIZE,
    by_parts,
    by_sectors,
    by_territories,
    wants_decomposition,
)
from solvers.neural.eas import EAS_MODES, EASConfig, eas_steps
from solvers.neural.search import (
    LS_VARIANTS,
    SEARCHES,
    distinct_solutions,
    ls_rounds,
    sample_candidates,
)
from vrp.model import Instance, Solution
from vrp.result import Result, SolverError, Tracer, UnsupportedVariant, check_time_limit

DECODES = ("greedy", "sampling", "multistart")
REVISE_MODES = ("auto", "off")
AUGMENTS = (1, 8)  # no augmentation, or the eight symmetries of the unit square

__all__ = ["AMSolver", "MatNetSolver", "NeuralParams", "POMOSolver", "checkpoint_dir", "load_policy",
           "resolve_checkpoint"]


@dataclass(frozen=True)
class NeuralParams:
    """Decoding options of the neural solvers.

    decode
        ``greedy``, ``sampling`` or ``multistart`` (default: greedy for am, multistart for pomo/matnet).
    samples
        Rollouts for ``sampling`` (decoded ``chunk`` at a time while time remains); with
        ``search=ls``/``eas``: rollouts of a round/step per augmented copy.
    augment
        1 (none) or 8 (dihedral symmetries of the unit square; MatNet: 8 embedding draws).
    chunk
        Instances x rollouts decoded in one forward pass (memory bound).
    threads
        torch CPU threads during the solve.
    search
        ``none`` (decode once; batched), ``ls`` or ``eas``: anytime, instance by instance with
        the whole time limit. ``ls``: the decoded solution and then rounds of ``samples`` policy
        samples (x ``augment``) polished by the HGS local search (see
        :mod:`solvers.neural.search`). ``eas``: the decoded solution, then Efficient Active
        Search steps of ``samples`` sampled rollouts (x ``augment``; ``decode=multistart``: one
        from every first node) that fine-tune ``eas_mode``'s instance parameters (see
        :mod:`solvers.neural.eas`).
    polish
        ``search=ls``: best distinct samples of a round that the local search polishes.
    granular
        ``search=ls``: nearest neighbours a local-search move looks at.
    eas_mode
        ``search=eas``: ``emb`` (EAS-Emb: fine-tune the decoder's cached logit keys, the
        default) or ``lay`` (EAS-Lay: a residual layer added to the pointer attention).
    eas_lr
        ``search=eas``: Adam learning rate (default 0.03; the paper's and rl4co's EAS-Emb value
        is 0.0041). Tuned on the shipped files at 60 s (`am:50`, one seed): the five CVRPLIB X
        files of at most 200 nodes 11.09 / 8.91 / 8.55 / 9.08 % at 0.0041 / 0.01 / 0.03 / 0.05,
        the 13 TSPLIB files of at most 200 cities 3.69 / - / 3.38 % at 0.0041 / - / 0.03.
    eas_lambda
        ``search=eas``: weight of the imitation loss on the incumbent (default 0.013, rl4co's).
    max_iterations
        ``search=ls``: stop after this many rounds; ``search=eas``: after this many EAS steps
        (the clock is then not read: the same seed gives the same solution on any machine);
        default: until the time limit.
    decompose
        ``auto``: an instance of more than 2x the checkpoint's training size (tsp: 3x under
        ``search=eas``; 4x under ``search=ls``; cvrp/ocvrp without a search: from 3x; tsp, and
        cvrp and ocvrp with an unlimited fleet) is decomposed into parts, each decoded by the policy (tsp: compact parts; cvrp
        and ocvrp: sweep sectors around the depot without a search, territories under one; see
        :mod:`solvers.neural.decompose`); ``off``: decode it whole.
    part_size
        Customers (cities) per part when decomposing; default: the checkpoint's training size
        (sweep sectors: twice that).
    part_augment
        ``search=eas`` on a decomposition's parts: the augmentations of each part's search (1 or
        8; default 8, whatever ``augment`` says for a whole instance). A part's steps are cheap,
        and the eight symmetric copies diversify them: at 60 s, three generated CVRP200 (held out:
        ``generated:cvrp:200:3:seed=41``) 0.7 / 3.2 / 0.7 % cheaper than with 1, two generated
        TSP200 (``generated:tsp:200:2:seed=43``) 0.8 / 1.0 % shorter, X-n200-k36 5.39 against
        8.52 %, X-n157-k13 7.50 against 7.98 %; on whole instances 8 copies cost too many
        steps (X-n120-k6 21.56 against 13.50 %). cvrp/ocvrp sweep sectors (no search) are
        decoded with as many, and so are their routes' revisions (one orientation of a sector of
        X-n1001-k43 alone sends the policy back to the depot after almost every customer: 930 %
        above the BKS with 1, 26 % with 8).
    revise
        cvrp/ocvrp sweep sectors (no search): ``auto`` re-tours every route of the decodings with
        the shipped tsp checkpoint of the same model and training size (``am:50``: ``am:tsp50``),
        greedy and then multistart, keeping each route's shorter order, and the same tsp policy
        tours every node at once, a tour the optimal Split cuts into routes (route first, cluster
        second), taking turns with the sector decodings (see :mod:`solvers.neural.decompose`);
        ``off``: the sectors' routes as decoded.
    """

    decode: str | None = None
    samples: int = 64
    augment: int = 1
    chunk: int = 4096
    threads: int = 1
    search: str = "none"
    polish: int = 2
    granular: int = 20
    eas_mode: str = EASConfig.mode  # one source for these defaults: the EAS run's own
    eas_lr: float = EASConfig.lr
    eas_lambda: float = EASConfig.lam
    max_iterations: int | None = None
    decompose: str = "auto"
    part_size: int | None = None
    part_augment: int = 8
    revise: str = "auto"

    def __post_init__(self) -> None:
        if self.decode is not None and self.decode not in DECODES:
            raise ValueError(f"decode: must be one of {', '.join(DECODES)}, got {self.decode!r}")
        if self.samples < 1:
            raise ValueError(f"samples: must be positive, got {self.samples}")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment: must be 1 or 8, got {self.augment}")
        if self.chunk < 1 or self.threads < 1:
            raise ValueError("chunk and threads must be positive")
        if self.search not in SEARCHES:
            raise ValueError(f"search: must be one of {', '.join(SEARCHES)}, got {self.search!r}")
        if self.polish < 1 or self.granular < 1:
            raise ValueError("polish and granular must be positive")
        if self.eas_mode not in EAS_MODES:
            raise ValueError(f"eas_mode: must be one of {', '.join(EAS_MODES)}, got {self.eas_mode!r}")
        if not self.eas_lr > 0:
            raise ValueError(f"eas_lr: must be positive, got {self.eas_lr}")
        if not self.eas_lambda >= 0:
            raise ValueError(f"eas_lambda: must be non-negative, got {self.eas_lambda}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations: must be positive, got {self.max_iterations}")
        if self.decompose not in DECOMPOSE_MODES:
            raise ValueError(f"decompose: must be one of {', '.join(DECOMPOSE_MODES)}, got {self.decompose!r}")
        if self.revise not in REVISE_MODES:
            raise ValueError(f"revise: must be one of {', '.join(REVISE_MODES)}, got {self.revise!r}")
        if self.part_augment not in AUGMENTS:
            raise ValueError(f"part_augment: must be 1 or 8, got {self.part_augment}")
        if self.part_size is not None and self.part_size < 4:
            raise ValueError(f"part_size: must be at least 4, got {self.part_size}")


class _NeuralSolver(BaseSolver):
    """Shared by the neural solvers: resolve the checkpoint(s), adapt, decode, map back."""

    model: ClassVar[str] = "am"
    default_decode: ClassVar[str] = DEFAULT_DECODE["am"]
    #: every variant a checkpoint of this family can be trained on (an instance's ``variants``
    #: narrows it to what its checkpoint(s) solve)
    family: ClassVar[frozenset[str]] = frozenset()
    Params = NeuralParams
    iteration_option = "samples"

    def __init__(self, argument: str | None = None, params: NeuralParams | None = None) -> None:
        super().__init__(params)
        if not argument:
            raise SolverError(f"solver {self.name!r} needs a checkpoint: {self.name}:<checkpoint>")
        self.argument = argument
        # variant -> checkpoint; the key None means "whatever problem the checkpoint holds"
        self.paths: dict[str | None, Path] = {}
        if argument.isdigit():
            self.paths.update(by_size(self.model, int(argument), self.family))
            if not self.paths:
                raise SolverError(f"checkpoint {argument!r}: no shipped {self.model} checkpoint of size {argument}")
            self.variants = frozenset(k for k in self.paths if k is not None)
        else:
            path = resolve_checkpoint(argument, self.model)
            self.paths[None] = path
            m = SHIPPED.match(path.stem)
            if m and m["model"] == self.model and path.parent == checkpoint_dir():
                self.variants = frozenset(covers(m["problem"])) & self.family

    @property  # type: ignore[override]
    def variants(self) -> frozenset[str]:
        base = getattr(self, "_variants", self.family)
        return base & LS_VARIANTS if self.params.search == "ls" else base

    @variants.setter
    def variants(self, value: frozenset[str]) -> None:
        self._variants = value

    def path_for(self, instance: Instance) -> Path:
        """The checkpoint that solves ``instance``; UnsupportedVariant on a mismatch."""
        if instance.variant in self.paths:
            return self.paths[instance.variant]
        if None in self.paths:
            path = self.paths[None]
            meta = load_policy(str(path))[1]
            if instance.variant in meta_variants(meta):
                return path
            raise UnsupportedVariant(
                f"solver {self.name}:{self.argument} was trained on {meta['problem']!r}; instance {instance.name} "
                f"is variant {instance.variant!r}")
        sizes = sizes_for(self.model, instance.variant)
        raise UnsupportedVariant(
            f"solver {self.name}:{self.argument} has no shipped size-{self.argument} checkpoint for variant "
            f"{instance.variant!r} ({instance.variant}: " + (f"sizes {', '.join(map(str, sizes))})" if sizes
                                                               else "none shipped)"))

    def meta(self, variant: str | None = None) -> dict[str, Any]:
        """Metadata (problem, size, model, command, gaps, ...) of a checkpoint; loads it."""
        path = self.paths.get(variant) or next(iter(self.paths.values()))
        return load_policy(str(path))[1]

    def warmup(self) -> None:
        """Import torch/rl4co and load the checkpoints (cached), outside any timed solve."""
        for path in self.paths.values():
            load_policy(str(path))
        if self.params.search == "ls":
            from solvers.hgs import warmup as hgs_warmup

            hgs_warmup()  # compiles (or loads the cached) numba kernels of the local search

    def solve(self, instance: Instance, *, time_limit: float, seed: int = 0) -> Result:
        start = time.perf_counter()
        result = self.solve_batch([instance], time_limit=time_limit, seed=seed)[0]
        result.runtime = time.perf_counter() - start
        return result

    def _check(self, inst: Instance) -> tuple[Path, dict[str, Any]]:
        """Every check on one instance, before any work: variant, checkpoint, adapter, size."""
        from envs.adapters import AdapterError, check_supported

        if self.params.search == "ls" and inst.variant not in LS_VARIANTS:
            raise UnsupportedVariant(f"search=ls: the local search does not take variant {inst.variant!r} "
                                     f"(it serves every customer; ls takes {', '.join(sorted(LS_VARIANTS))})")
        if inst.variant not in self.variants:
            if self.argument.isdigit() and inst.variant in self.family:
                self.path_for(inst)  # raises, naming the sizes shipped for the variant
            raise UnsupportedVariant(f"solver {self.name}:{self.argument} does not support variant "
                                     f"{inst.variant!r} (supports: {', '.join(sorted(self.variants))})")
        path = self.path_for(inst)
        meta = load_policy(str(path))[1]
        try:
            check_supported(inst, meta["problem"])
        except AdapterError as exc:
            raise SolverError(str(exc)) from None
        width = int(meta["policy_kwargs"].get("embed_dim", 128))
        if meta["model"] == "matnet" and inst.n > width:
            raise SolverError(f"size: {self.name}:{self.argument} embeds at most {width} nodes (MatNet's one-hot "
                              f"columns), instance {inst.name} has {inst.n}")
        return path, meta

    def solve_batch(self, instances: list[Instance], *, time_limit: float, seed: int = 0) -> list[Result]:
        """Solve many instances in batches of one checkpoint and size; ``time_limit`` bounds each batch's
        sampling loop (greedy and multistart are a single pass).

        Each result's ``runtime`` is its group's wall time divided by the group size: the honest
        per-instance time of batched inference.
        """
        import torch

        from envs.adapters import get_problem, to_tensordict

        checked = [self._check(inst) for inst in instances]  # every check before any work
        limit = check_time_limit(time_limit)
        p = self.params
        results: list[Result | None] = [None] * len(instances)
        whole = []
        for k, (inst, (_, meta)) in enumerate(zip(instances, checked)):
            if wants_decomposition(inst, int(meta["size"]), p.decompose, p.search):  # each with the whole limit
                results[k] = self._decomposed(inst, int(meta["size"]), limit, seed)
            else:
                whole.append(k)
        if p.search != "none":  # anytime: one instance at a time, each with the whole limit
            for k in whole:
                results[k] = self._search_one(instances[k], *checked[k], limit, seed)
            return results  # type: ignore[return-value]
        mode = p.decode or self.default_decode
        groups: dict[tuple[Any, ...], list[int]] = {}
        for k in whole:
            inst, (path, meta) = instances[k], checked[k]
            key = (str(path), *get_problem(meta["problem"]).batch_key(inst))
            groups.setdefault(key, []).append(k)
        threads = torch.get_num_threads()
        torch.set_num_threads(p.threads)
        try:
            with torch.random.fork_rng():
                for idx in groups.values():
                    g0 = time.perf_counter()
                    path, meta = checked[idx[0]]
                    problem = meta["problem"]
                    adapter = get_problem(problem)
                    policy, _ = load_policy(str(path))
                    first = instances[idx[0]]
                    env = env_for(problem, adapter.size_of(first))
                    torch.manual_seed(seed)  # after the env: building one (first use) draws from the global stream
                    # one forward pass holds instances x augment (x starts for multistart)
                    step = max(1, p.chunk // (p.augment * (first.n if mode == "multistart" else 1)))
                    deadline = g0 + 0.85 * limit
                    sols: list[Any] = []
                    for s in range(0, len(idx), step):
                        part = [instances[k] for k in idx[s:s + step]]
                        td, norms = to_tensordict(part, problem=problem)
                        fleet = fleet_limits(part, adapter)
                        rewards, actions = decode(policy, env, adapter, td, mode, p.samples, p.augment, p.chunk,
                                                  deadline, fleet=fleet, customers=first.num_customers)
                        stuck = [b for b, r in enumerate(rewards.tolist()) if r <= -FORBIDDEN / 2]
                        if stuck and mode != "sampling":  # no allowed plan: sample more before giving up
                            r2, a2 = decode(policy, env, adapter, td[stuck], "sampling", p.samples, p.augment,
                                            p.chunk, deadline, fleet=fleet[stuck], customers=first.num_customers)
                            for j, b in enumerate(stuck):
                                rewards[b], actions[b] = r2[j], a2[j]
                        for inst, r, a, norm in zip(part, rewards.tolist(), actions, norms):
                            acts = [int(x) for x in a.reshape(-1).tolist()]
                            sols.append(None if r <= -FORBIDDEN / 2 else adapter.to_solution(inst, acts, norm))
                    per_inst = (time.perf_counter() - g0) / len(idx)
                    info = {"checkpoint": str(path), "decode": mode, "augment": p.augment,
                            "samples": p.samples if mode == "sampling" else 1, "batch": len(idx)}
                    for k, sol in zip(idx, sols):
                        if sol is None:
                            results[k] = Result(None, "timeout", per_inst, solver=self.name, threads=p.threads,
                                                info={**info, "reason": self._why_none(instances[k], problem)})
                        else:
                            results[k] = Result(sol, "feasible", per_inst, solver=self.name, threads=p.threads,
                                                info=dict(info))
        finally:
            torch.set_num_threads(threads)
        return results  # type: ignore[return-value]

    def _decomposed(self, inst: Instance, trained: int, limit: float, seed: int) -> Result:
        """An instance far beyond the training size, in parts (see :mod:`solvers.neural.decompose`)."""
        import dataclasses

        start = time.perf_counter()
        p = self.params
        part = p.part_size or trained
        augment = p.part_augment if p.search == "eas" else p.augment
        inner = type(self)(self.argument, dataclasses.replace(p, decompose="off", augment=augment))
        parts = type(self)(self.argument, dataclasses.replace(p, decompose="off", search="none"))
        if inst.variant != "tsp" and p.search == "none":
            sectors = type(self)(self.argument, dataclasses.replace(p, decompose="off", augment=p.part_augment))

            def decode_sectors(subs: list[Instance], share: float) -> list[Any]:
                return [r.solution for r in sectors.solve_batch(subs, time_limit=max(0.05, share), seed=seed)]

            result = by_sectors(inst, decode_sectors, p.part_size or SECTOR_SIZE * trained, start,
                                start + 0.9 * limit, self.progress, self._route_revisers(trained, seed),
                                self._giant_tour(trained, seed))
        elif inst.variant != "tsp":
            result = by_territories(inst, inner, part, p.search == "ls", limit, seed, self.progress, quick=parts)
        else:

            def decode_batch(subs: list[Instance]) -> list[Any]:
                if p.search == "eas":  # each part searched in its share of the time left
                    out = []
                    for k, sub in enumerate(subs):
                        share = (start + 0.85 * limit - time.perf_counter()) / (len(subs) - k)
                        solver = inner if share >= 0.05 else parts
                        out.append(solver.solve(sub, time_limit=max(0.05, share), seed=seed).solution)
                    return out
                left = max(0.05, start + 0.9 * limit - time.perf_counter())
                return [r.solution for r in parts.solve_batch(subs, time_limit=left, seed=seed)]

            if p.search == "eas":  # the parts' greedy tours first: an incumbent within a forward pass
                result = self._searched_parts(inst, part, start, decode_batch, parts, seed)
            else:
                result = by_parts(inst, decode_batch, part, start, self.progress)
            if p.search == "ls":  # polish; then rounds of other parts (cuts rotated), until the limit
                from solvers.hgs.polish import polish

                tracer = Tracer(inst.sense, start, callback=self.progress)
                assert isinstance(result.solution, Solution)

                def other_parts(rnd: int) -> list[Solution]:
                    sol = by_parts(inst, decode_batch, part, start, None, angle=rnd * 2.399963).solution
                    assert isinstance(sol, Solution)
                    return [sol]

                best, stats = ls_rounds(inst, result.solution, other_parts,
                                        lambda sol, s: polish(inst, sol, s, p.granular), tracer,
                                        start + 0.9 * limit, p.max_iterations, seed)
                assert best is not None  # the merged tour is feasible, and polish never makes it worse
                result = Result(best, "feasible", tracer.elapsed(), trace=tracer.trace,
                                info={**result.info, **stats})
        result.solver = self.name
        result.threads = p.threads
        result.info = {"checkpoint": str(self.path_for(inst)), "decode": p.decode or self.default_decode,
                       "search": p.search, **result.info}
        result.runtime = time.perf_counter() - start
        return result

    def _reviser_checkpoint(self, trained: int) -> Path | None:
        """The shipped tsp checkpoint of this model and training size that tours the routes and
        giant tours of a sector decoding (``am:50``: ``am:tsp50``); None when ``revise=off`` or
        none is shipped."""
        path = checkpoint_dir() / f"{self.model}-tsp{trained}.pt"
        return path if self.params.revise != "off" and path.is_file() else None

    def _giant_tour(self, trained: int, seed: int) -> Any:
        """The tour of every node of a cvrp/ocvrp instance (as a tsp) by the shipped tsp checkpoint
        of this model and the training size, in parts of the training size merged
        (:func:`solvers.neural.decompose.by_parts`; greedy, ``part_augment`` copies), for
        :func:`solvers.neural.decompose.split_tour`; None when not shipped or ``revise=off``."""
        import dataclasses

        p = self.params
        path = self._reviser_checkpoint(trained)
        if path is None:
            return None
        tsp = type(self)(str(path), dataclasses.replace(p, decompose="off", search="none", decode="greedy",
                                                         augment=p.part_augment, part_size=None))

        def tour(inst: Instance, left: float, angle: float) -> list[int] | None:
            def decode_batch(subs: list[Instance]) -> list[Any]:
                return [r.solution for r in tsp.solve_batch(subs, time_limit=max(0.05, left), seed=seed)]

            sol = by_parts(inst, decode_batch, trained, time.perf_counter(), None, angle=angle).solution
            return list(sol.routes[0]) if isinstance(sol, Solution) else None

        return tour

    def _route_revisers(self, trained: int, seed: int) -> list[Any]:
        """Decoders that re-tour the routes of a sector decoding: the shipped tsp checkpoint of this
        model and the training size (greedy, then multistart, ``part_augment`` copies each); none
        when not shipped or ``revise=off``."""
        import dataclasses

        p = self.params
        path = self._reviser_checkpoint(trained)
        if path is None:
            return []
        out = []
        for mode in ("greedy", "multistart"):
            tsp = type(self)(str(path), dataclasses.replace(p, decompose="off", search="none", decode=mode,
                                                             augment=p.part_augment))

            def decode(subs: list[Instance], left: float, tsp: Any = tsp) -> list[Any]:
                return [r.solution for r in tsp.solve_batch(subs, time_limit=max(0.05, left), seed=seed)]

            out.append(decode)
        return out

    def _searched_parts(self, inst: Instance, part: int, start: float,
                        decode_batch: Callable[[list[Instance]], list[Any]], greedy: Any, seed: int) -> Result:
        """tsp under ``search=eas``: the merged greedy tours of the parts (traced at once), then
        the parts searched in the time left; the better merged tour is kept."""
        import numpy as np

        from vrp.evaluate import evaluate

        tracer = Tracer(inst.sense, start, callback=self.progress)

        def quick(subs: list[Instance]) -> list[Any]:
            return [r.solution for r in greedy.solve_batch(subs, time_limit=60.0, seed=seed)]

        tours: list[Solution] = []
        values: list[float] = []
        info: dict[str, Any] = {}
        for decoder in (quick, decode_batch):  # the greedy parts first, then the searched ones
            res = by_parts(inst, decoder, part, start, None)
            assert isinstance(res.solution, Solution)
            tours.append(res.solution)
            values.append(evaluate(inst, res.solution).objective)
            tracer.offer(values[-1])
            info = res.info
        best = tours[int(np.argmin(values))]
        return Result(best, "feasible", tracer.elapsed(), trace=tracer.trace, info=info)

    def _search_one(self, inst: Instance, path: Path, meta: dict[str, Any], limit: float, seed: int) -> Result:
        """``search=ls`` or ``search=eas`` on one instance (see :mod:`solvers.neural.search`,
        :mod:`solvers.neural.eas`)."""
        import torch

        from envs.adapters import get_problem, to_tensordict

        start = time.perf_counter()
        p = self.params
        tracer = Tracer(inst.sense, start, callback=self.progress)
        problem = meta["problem"]
        adapter = get_problem(problem)
        policy, _ = load_policy(str(path))
        env = env_for(problem, adapter.size_of(inst))
        td, norms = to_tensordict([inst], problem=problem)
        fleet = fleet_limits([inst], adapter)
        customers = inst.num_customers
        mode = "multistart" if (p.decode or self.default_decode) == "multistart" else "greedy"
        deadline = start + 0.92 * limit
        threads = torch.get_num_threads()
        torch.set_num_threads(p.threads)
        try:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                rewards, actions = decode(policy, env, adapter, td, mode, 1, p.augment, p.chunk, deadline,
                                          fleet=fleet, customers=customers)
                first = None
                if float(rewards[0]) > -FORBIDDEN / 2:
                    first = adapter.to_solution(inst, [int(x) for x in actions[0].reshape(-1).tolist()], norms[0])
                if p.search == "eas":
                    cfg = EASConfig(mode=p.eas_mode, lr=p.eas_lr, lam=p.eas_lambda, samples=p.samples,
                                    multistart=mode == "multistart", augment=p.augment)
                    found, stats = eas_steps(inst, policy, env, adapter, td, norms[0], cfg,
                                             None if first is None else (first, actions[0].reshape(-1)), tracer,
                                             deadline, p.max_iterations, fleet, customers)
                    best = None if found is None else found[0]
                    info_extra: dict[str, Any] = {"eas_mode": p.eas_mode, "eas_lr": p.eas_lr,
                                                  "eas_lambda": p.eas_lambda, **stats}
                else:
                    from solvers.hgs.polish import polish

                    def draw(_round: int) -> list[Any]:
                        cands = sample_candidates(policy, env, adapter, td, p.samples, p.augment, fleet,
                                                  customers)
                        return distinct_solutions(cands, adapter, inst, norms[0], p.polish)

                    best, stats = ls_rounds(inst, first, draw, lambda sol, s: polish(inst, sol, s, p.granular),
                                            tracer, deadline, p.max_iterations, seed)
                    info_extra = {"polish": p.polish, **stats}
        finally:
            torch.set_num_threads(threads)
        info = {"checkpoint": str(path), "decode": mode, "search": p.search, "augment": p.augment,
                "samples": p.samples, **info_extra}
        runtime = time.perf_counter() - start
        if best is None:
            return Result(None, "timeout", runtime, solver=self.name, threads=p.threads, trace=tracer.trace,
                          info={**info, "reason": self._why_none(inst, problem)})
        return Result(best, "feasible", runtime, solver=self.name, threads=p.threads, trace=tracer.trace, info=info)

    # ------------------------------------------------------------------ sampling for other solvers
    def calibrate(self, size: int = 100) -> tuple[float, float]:
        """Time sampled rollouts on a random instance of ``size`` nodes of a checkpoint's problem;
        return ``(alpha, beta)`` of the cost model ``seconds = steps x (alpha + beta x nodes x samples)``.

        Called from a warm-up (outside any time limit); :meth:`sample_solutions` uses the model to
        truncate the number of samples to a time budget.
        """
        import torch

        from envs.adapters import get_problem

        path = next(iter(self.paths.values()))
        policy, meta = load_policy(str(path))
        env = env_for(meta["problem"], size)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.params.threads)
        times: dict[int, tuple[float, int, int]] = {}
        try:
            with torch.random.fork_rng(), torch.inference_mode():
                for k in (1, 1, 32):  # the first call pays one-off costs; keep the second
                    torch.manual_seed(0)  # the same random instance each time
                    td = env.reset(batch_size=[1])
                    nodes = int(td["action_mask"].shape[-1])
                    t0 = time.perf_counter()
                    out = policy(td, env, decode_type="sampling", **({"num_samples": k} if k > 1 else {}))
                    times[k] = (time.perf_counter() - t0, int(out["actions"].shape[-1]), nodes)
        finally:
            torch.set_num_threads(threads)
        (t1, l1, n1), (t32, l32, _) = times[1], times[32]
        alpha = max(1e-6, t1 / max(1, l1))
        beta = max(1e-9, (t32 / max(1, l32) - alpha) / (n1 * 31))
        self.cost_model = (alpha, beta)
        get_problem(meta["problem"])  # imported now rather than in a timed solve
        return self.cost_model

    def sample_solutions(self, instance: Instance, samples: int, seed: int = 0, budget: float | None = None
                         ) -> tuple[list[Any], dict[str, Any]]:
        """Distinct allowed solutions among ``samples`` sampled rollouts of the policy on ``instance``.

        One batched forward pass (rl4co's ``num_samples``: the encoder runs once for all samples).
        With ``budget`` (seconds), the number of samples is cut to what the cost model of
        :meth:`calibrate` (x 1.5 for safety) predicts fits in it, possibly none; without, all
        ``samples`` are drawn, so that the same seed gives the same solutions on any machine.
        Solutions come best reward first; ``info`` counts what was drawn and kept.
        """
        import torch

        from envs.adapters import get_problem, to_tensordict

        path, meta = self._check(instance)
        problem = meta["problem"]
        adapter = get_problem(problem)
        k = samples
        if budget is not None:
            k = min(samples, self._affordable(instance, budget))
        info: dict[str, Any] = {"init_samples": k, "init_allowed": 0}
        if k < 1:
            return [], info
        policy, _ = load_policy(str(path))
        env = env_for(problem, adapter.size_of(instance))
        td, norms = to_tensordict([instance], problem=problem)
        fleet = fleet_limits([instance], adapter)
        threads = torch.get_num_threads()
        torch.set_num_threads(self.params.threads)
        try:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                cands = sample_candidates(policy, env, adapter, td, k, 1, fleet, instance.num_customers)
        finally:
            torch.set_num_threads(threads)
        sols = distinct_solutions(cands, adapter, instance, norms[0])
        info["init_allowed"] = len(cands)
        return sols, info

    def _affordable(self, instance: Instance, budget: float) -> int:
        """Most samples whose rollout the cost model predicts within ``budget`` seconds (0: none)."""
        alpha, beta = getattr(self, "cost_model", None) or self.calibrate()
        steps = instance.n
        if instance.demands is not None and instance.capacity:  # a return to the depot per route
            steps += int(float(sum(instance.demands)) / float(instance.capacity)) + 2
        per_step = budget / 1.5 / steps - alpha
        return max(0, int(per_step / (beta * instance.n))) if per_step > 0 else 0

    @staticmethod
    def _why_none(inst: Instance, problem: str) -> str:
        if problem == "hcvrp":
            return "every decoded plan ran out of vehicles before serving every customer"
        return f"every decoded solution needs more routes than the {inst.num_vehicles} vehicles"


class AMSolver(_NeuralSolver):
    """Attention Model (Kool et al. 2019) trained with REINFORCE + greedy rollout baseline."""

    name = "am"
    model = "am"
    default_decode = DEFAULT_DECODE["am"]
    family = frozenset({"tsp", "cvrp", "ocvrp", "vrptw", "op", "pctsp", "hcvrp"})


class POMOSolver(_NeuralSolver):
    """POMO (Kwon et al. 2020): multi-start greedy decoding by default."""

    name = "pomo"
    model = "pomo"
    default_decode = DEFAULT_DECODE["pomo"]
    family = frozenset({"tsp", "cvrp", "ocvrp", "vrptw"})


class MatNetSolver(_NeuralSolver):
    """MatNet (Kwon et al. 2021) on the distance matrix alone: atsp, and tsp given as a matrix."""

    name = "matnet"
    model = "matnet"
    default_decode = DEFAULT_DECODE["matnet"]
    family = frozenset({"atsp", "tsp"})
