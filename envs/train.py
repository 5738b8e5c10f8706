"""Training policies with rl4co (AM + rollout baseline, POMO + shared baseline, MatNet, DeepACO heatmaps).

rl4co does the modelling and REINFORCE; Lightning runs the loop (and its multi-device
strategies). This module adds what a user of ``vrp train`` needs around them:

- data from :class:`envs.rl4co_gen.VrpGenerator` (the ``vrp generate`` distribution);
- after each epoch: greedy decoding of a *fixed* validation set (``generate_many(...,
  seed=VAL_SEED)``) scored in instance units, its gap against the committed reference
  costs (``datasets/reference/<problem><size>-val.csv``), one CSV row, a weights-only
  checkpoint ``epoch-NNN.pt``, ``last.pt`` and ``best.pt`` (lowest validation cost);
- a full Lightning checkpoint ``last.ckpt`` (weights, optimizer, epoch, baseline) that
  ``--resume`` continues from;
- a wall-time bound: training stops after the last epoch that fits in ``max_time``.

torch, rl4co and Lightning are imported inside the functions.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VAL_SEED = 1001
#: torch's random state while validation decodes (the policies that draw random numbers: MatNet)
VAL_RNG_SEED = 0
TEST_SEED = 2002
FORMAT = "vrp-toolkit/neural-1"
AM_POLICY = {"embed_dim": 128, "num_encoder_layers": 3, "num_heads": 8}
POMO_POLICY = {"embed_dim": 128, "num_encoder_layers": 6, "num_heads": 8, "normalization": "instance",
               "use_graph_context": False}
#: MatNet (Kwon et al. 2021) at half its published width: 128 wide (so at most 128 nodes), 5 layers
MATNET_POLICY = {"embed_dim": 128, "num_encoder_layers": 5, "num_heads": 8, "normalization": "instance"}
#: DeepACO (Ye et al. 2023): rl4co's NARGNN heatmap network (its published depth and width) whose
#: heatmap ants sample from; REINFORCE with the shared baseline over the ants of an instance
DEEPACO_POLICY = {"embed_dim": 64, "num_layers_graph_encoder": 15, "num_layers_heatmap_generator": 5,
                  "n_ants": {"train": 20, "val": 20, "test": 20}}
MODELS = ("am", "pomo", "matnet", "deepaco")
DEFAULT_POLICY: dict[str, dict[str, Any]] = {"am": AM_POLICY, "pomo": POMO_POLICY, "matnet": MATNET_POLICY,
                                             "deepaco": DEEPACO_POLICY}
#: what ``--layers`` sets, by model
LAYERS_KEY = {"deepaco": "num_layers_graph_encoder"}
CSV_FIELDS = ["epoch", "samples", "train_reward", "train_loss", "val_cost", "val_gap_pct", "val_ref_n",
              "epoch_s", "wall_s", "lr", "val_decode"]
#: how each model decodes by default: its solver (no ``decode`` option) and its validation. POMO
#: and MatNet are multi-start models: their greedy rollout from one start says little about their
#: best of all starts (DeepACO's validation scores its heatmap's greedy tour)
DEFAULT_DECODE = {"am": "greedy", "pomo": "multistart", "matnet": "multistart", "deepaco": "greedy"}
#: rollouts in one multi-start validation pass (instances x starts)
MULTISTART_ROLLOUTS = 8192


def val_decode(model: str) -> str:
    """``greedy`` or ``multistart``: how the validation of a ``model`` policy decodes."""
    return DEFAULT_DECODE.get(model, "greedy")


@dataclass
class TrainConfig:
    """Everything ``vrp train`` passes to :func:`train` (defaults = the CLI's)."""

    problem: str = "tsp"
    size: int = 20
    model: str = "am"
    baseline: str | None = None  # rollout for am, shared for pomo
    epochs: int = 10
    train_size: int = 100_000
    batch_size: int = 512
    val_size: int = 1000
    out: str = "runs/tsp20"
    resume: bool = False
    device: str = "cpu"
    devices: str = "1"
    num_nodes: int = 1
    strategy: str = "auto"
    seed: int = 1234
    lr: float = 1e-4
    max_time: float | None = None  # seconds of wall time for this run
    distribution: str = "uniform"
    threads: int = 1
    init: str | None = None  # start from these policy weights (a .pt checkpoint)
    variants: list[str] | None = None  # mtvrp: the variants of the mixed batches (default cvrp, ocvrp, vrptw)
    progress: bool | None = None
    command: str = ""
    policy_kwargs: dict[str, Any] = field(default_factory=dict)


def check_policy_kwargs(kwargs: dict[str, Any], model: str = "am") -> None:
    """Reject architectures the attention kernels cannot run, before anything is written.

    torch's attention needs a head size that is a multiple of 8 and at most 128.
    """
    if model == "deepaco":  # a GNN: any positive width and depth
        for key in ("embed_dim", "num_layers_graph_encoder"):
            if key in kwargs and int(kwargs[key]) < 1:
                raise ValueError(f"{'layers' if key != 'embed_dim' else key}: must be at least 1, got {kwargs[key]}")
        return
    heads = int(kwargs.get("num_heads", AM_POLICY["num_heads"]))
    dim = kwargs.get("embed_dim")
    if dim is not None and (int(dim) <= 0 or int(dim) % (8 * heads) or int(dim) // heads > 128):
        raise ValueError(f"embed_dim: must be a multiple of {8 * heads} and at most {128 * heads} "
                         f"({heads} heads, each a multiple of 8 wide), got {dim}")
    layers = kwargs.get("num_encoder_layers")
    if layers is not None and int(layers) < 1:
        raise ValueError(f"layers: must be at least 1, got {layers}")


def reference_path(problem: str, size: int, split: str) -> Path:
    """``datasets/reference/<problem><size>-<split>.csv`` (found through ``vrp.data`` when present)."""
    return _datasets_dir() / "reference" / f"{problem}{size}-{split}.csv"


def _datasets_dir() -> Path:
    env = os.environ.get("VRP_DATA")
    if env:
        return Path(env)
    try:
        from vrp.data import data_dir  # type: ignore[import-not-found]

        return Path(data_dir())
    except Exception:  # noqa: BLE001 - vrp.data may not exist yet; fall back to the checkout
        return Path(__file__).resolve().parent.parent / "datasets"


def read_references(path: Path) -> dict[str, float]:
    """``name -> reference cost`` from a reference CSV (columns name, cost, ...)."""
    if not path.exists():
        return {}
    with path.open() as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return {r["name"]: float(r["cost"]) for r in rows}


def fixed_set(problem: str, size: int, split: str, count: int, distribution: str = "uniform",
              variants: list[str] | None = None) -> list:
    """The fixed validation (``val``) or test (``test``) instances of a size.

    A multi-variant problem (``mtvrp``) takes ``count // len(variants)`` instances of each
    variant's own set (the same instances as the single-variant policies are scored on).
    """
    from envs.generate import PROBLEMS, generate_many

    seed = VAL_SEED if split == "val" else TEST_SEED
    if problem in PROBLEMS:
        return generate_many(problem, size, count, distribution=distribution, seed=seed)
    from envs.adapters import get_problem

    kinds = list(variants or get_problem(problem).train_variants)
    each = max(1, count // len(kinds))
    return [inst for v in kinds for inst in generate_many(v, size, each, distribution=distribution, seed=seed)]


def decode_costs(policy: Any, env: Any, instances: list, batch_size: int = 500, device: str = "cpu",
                 problem: str | None = None, decode: str = "greedy") -> list[float]:
    """Decoded objectives in instance units (de-normalised rewards) for same-sized instances.

    ``decode``: ``greedy`` (one rollout) or ``multistart`` (the best of a greedy rollout from
    every start node, as POMO and MatNet decode). ``problem`` names the adapter (default: the
    instances' variant). Deterministic: decoded under torch's random state :data:`VAL_RNG_SEED`.
    """
    import torch
    from rl4co.utils.ops import unbatchify

    from envs.adapters import denormalise_cost, to_tensordict

    if decode not in ("greedy", "multistart"):
        raise ValueError(f"decode: greedy or multistart, got {decode!r}")
    costs: list[float] = []
    was_training = policy.training
    policy.eval()
    run = _greedy_decoder(policy)
    # MatNet draws random column embeddings on every pass: a fixed random state makes every
    # epoch's (and every average's) validation comparable, and leaves the training stream alone
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(VAL_RNG_SEED)
        starts = 1
        if decode == "multistart" and instances:
            td, _ = to_tensordict(instances[:1], device=device, problem=problem)
            starts = int(env.get_num_starts(env.reset(td)))
            if starts < 1:
                raise ValueError(f"decode: {problem or instances[0].variant} has no start nodes to decode from")
            batch_size = max(1, min(batch_size, MULTISTART_ROLLOUTS // starts))
        for i in range(0, len(instances), batch_size):
            chunk = instances[i:i + batch_size]
            td, norms = to_tensordict(chunk, device=device, problem=problem)
            if decode == "multistart":
                out = run(env.reset(td), env, phase="test", decode_type="multistart_greedy", num_starts=starts)
                rewards = unbatchify(out["reward"], starts).max(-1).values
            else:
                rewards = run(env.reset(td), env, phase="test", decode_type="greedy")["reward"]
            costs += [denormalise_cost(r, n) for r, n in zip(rewards.tolist(), norms)]
    policy.train(was_training)
    return costs


def _greedy_decoder(policy: Any) -> Any:
    """The greedy decoding call of ``policy``: its own forward, except for a DeepACO policy, whose
    test-phase forward runs rl4co's ant system: there, the heatmap's greedy tour (its
    non-autoregressive parent's forward), one cheap number that follows the heatmap's quality."""
    from rl4co.models.zoo.deepaco import DeepACOPolicy

    if isinstance(policy, DeepACOPolicy):
        from rl4co.models.common.constructive.nonautoregressive import NonAutoregressivePolicy

        return lambda td, env, **kw: NonAutoregressivePolicy.forward(policy, td, env, **kw)
    return policy


def validation_score(costs: list[float], instances: list, problem: str, size: int,
                     decode: str = "greedy") -> dict[str, Any]:
    """The ``val`` record of ``costs`` (decoded as ``decode`` says) on the fixed validation
    ``instances``: mean cost and mean gap against the committed reference costs of each
    instance's variant (``gap_pct`` None where there are none; a gap is "how much worse", also
    for op's maximised prize).

    ``score`` is what a lower-is-better comparison of epochs uses (the cost, or minus op's prize).
    """
    from vrp.evaluate import gap_pct

    refs: dict[str, float] = {}
    for variant in sorted({i.variant for i in instances}):
        refs.update(read_references(reference_path(variant, size, "val")))
    gaps = [gap_pct(c, refs[i.name], i.sense) for c, i in zip(costs, instances) if i.name in refs]
    cost = sum(costs) / len(costs)
    sense = instances[0].sense
    return {"instances": len(costs), "seed": VAL_SEED, "decode": decode, "cost": cost, "sense": sense,
            "score": cost if sense == "min" else -cost,
            "gap_pct": sum(gaps) / len(gaps) if gaps else None, "ref_n": len(gaps)}


def make_policy(model: str, env_name: str, policy_kwargs: dict[str, Any], problem: str | None = None) -> Any:
    """An rl4co policy with the given architecture: ``AttentionModelPolicy`` (am, pomo),
    ``MatNetPolicy`` (matnet) or ``DeepACOPolicy`` (deepaco: needs torch-geometric); a problem
    rl4co has no embeddings for brings its own."""
    if model == "deepaco":
        from rl4co.models.zoo.deepaco import DeepACOPolicy

        return DeepACOPolicy(env_name=env_name, **policy_kwargs)
    if model == "matnet":
        from rl4co.models.zoo.matnet import MatNetPolicy

        return MatNetPolicy(env_name=env_name, **policy_kwargs)
    from rl4co.models.zoo.am import AttentionModelPolicy

    from envs.adapters import get_problem

    embed_dim = int(policy_kwargs.get("embed_dim", AM_POLICY["embed_dim"]))
    modules = get_problem(problem).embeddings(embed_dim) if problem else {}
    return AttentionModelPolicy(env_name=env_name, **modules, **policy_kwargs)


def load_matching(policy: Any, state: dict[str, Any]) -> tuple[int, int]:
    """Copy the tensors of ``state`` whose name and shape match ``policy``'s (transfer from a
    policy of another problem: the encoder and decoder layers carry over, the problem's own
    embeddings start fresh). Returns (copied, total in the policy)."""
    own = policy.state_dict()
    take = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    own.update(take)
    policy.load_state_dict(own)
    return len(take), len(own)


def save_checkpoint(path: Path, policy: Any, meta: dict[str, Any]) -> None:
    """A small weights-only checkpoint: metadata plus the policy's ``state_dict``."""
    save_state(path, {k: v.detach().cpu().clone() for k, v in policy.state_dict().items()}, meta)


def save_state(path: Path, state: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write metadata plus a ``state_dict`` atomically (a crash leaves no half-written file)."""
    import torch

    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({**meta, "state_dict": state}, tmp)
    os.replace(tmp, path)


def _check_torch_geometric() -> None:
    try:
        import torch_geometric  # noqa: F401
    except ImportError:
        raise ValueError("model: deepaco needs torch-geometric (pip install 'vrp-toolkit[neural]')") from None


def _versions() -> dict[str, str]:
    import lightning
    import rl4co
    import tensordict
    import torch

    return {"torch": str(torch.__version__), "rl4co": str(rl4co.__version__),
            "tensordict": str(tensordict.__version__), "lightning": str(lightning.__version__),
            "python": sys.version.split()[0]}


# Library chatter that says nothing about this run (our own lines report every epoch).
_NOISE = (
    r"Attribute '(env|policy)' is an instance of `nn.Module`",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    r"Found \d+ module\(s\) in eval mode",
    r"Checkpoint directory .* exists and is not empty",  # --resume writes into its own run folder
    r"Attribute 'policy' removed from hparams",  # DeepACO's policy: saved in every .pt and in last.ckpt's state
)


def _quiet_libraries() -> None:
    import logging
    import warnings

    for pattern in _NOISE:
        warnings.filterwarnings("ignore", message=pattern)
    # "GPU available: False", the LitLogger tip, "val_file not set. Generating dataset instead"
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "rl4co"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("rl4co.envs.common.base").setLevel(logging.ERROR)  # we generate the datasets on purpose
    # MatNetPolicy hands its architecture to rl4co's base policy too, which calls it "unused"
    logging.getLogger("rl4co.models.common.constructive.base").addFilter(
        lambda record: "unused kwargs" not in record.getMessage())


def train(cfg: TrainConfig, callbacks: list | None = None) -> Path:  # noqa: C901 - one setup sequence
    """Train (or resume) a policy; returns the output directory.

    Writes ``metrics.csv``, ``epoch-NNN.pt``, ``last.pt``, ``best.pt`` and ``last.ckpt``
    under ``cfg.out``. ``callbacks`` are extra Lightning callbacks.
    """
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.callbacks import ModelCheckpoint
    from rl4co.models.zoo import POMO, AttentionModel
    from rl4co.utils.trainer import RL4COTrainer

    _quiet_libraries()
    from envs.adapters import PROBLEMS, get_problem
    from envs.rl4co_gen import make_env
    from envs.run_lock import lock_run, release_run

    if cfg.problem not in PROBLEMS:
        raise ValueError(f"problem: neural training supports {', '.join(PROBLEMS)}, got {cfg.problem!r}")
    adapter = get_problem(cfg.problem)
    if cfg.model not in adapter.models:
        raise ValueError(f"model: {cfg.problem} trains {' or '.join(adapter.models)}, got {cfg.model!r}")
    if cfg.variants and cfg.problem != "mtvrp":
        raise ValueError(f"variants: only the multi-variant problem mtvrp takes --variants (got --problem {cfg.problem})")
    variants = list(cfg.variants or adapter.train_variants)
    bad = [v for v in variants if v not in adapter.variants]
    if bad:
        raise ValueError(f"variants: {cfg.problem} takes {', '.join(sorted(adapter.variants))}, got {', '.join(bad)}")
    baseline = cfg.baseline or ("rollout" if cfg.model == "am" else "shared")
    if cfg.model in ("pomo", "matnet", "deepaco") and baseline != "shared":
        raise ValueError(f"baseline: {cfg.model} trains with the shared baseline only")
    if cfg.model == "am" and baseline not in ("rollout", "exponential", "shared"):
        raise ValueError(f"baseline: am supports rollout, exponential, shared; got {baseline!r}")
    check_policy_kwargs(cfg.policy_kwargs, cfg.model)
    if cfg.model == "deepaco":
        _check_torch_geometric()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    lock = lock_run(out)  # first: a live run's last.ckpt is its own, whatever --resume says
    ckpt_full = out / "last.ckpt"
    if cfg.resume and not ckpt_full.exists():
        release_run(lock)
        raise FileNotFoundError(f"--resume: no {ckpt_full} to continue from")
    if not cfg.resume and ckpt_full.exists():
        release_run(lock)
        raise FileExistsError(f"out: {out} already holds a run (last.ckpt); pass --resume or another --out")

    torch.set_num_threads(max(1, int(cfg.threads)))
    pl.seed_everything(cfg.seed, verbose=False)
    env = make_env(cfg.problem, cfg.size, cfg.distribution, cfg.seed, variants=variants)
    env.check_solution = False
    policy_kwargs = {**DEFAULT_POLICY[cfg.model], **cfg.policy_kwargs}
    init = None
    transfer = None  # (copied, total) tensors when starting from another problem's policy
    if cfg.init:
        init = torch.load(cfg.init, map_location="cpu", weights_only=True)
        same = init.get("problem") == cfg.problem
        if init.get("model") == "deepaco" and cfg.model != "deepaco" or cfg.model == "deepaco" and (
                init.get("model") != "deepaco" or not same):
            raise ValueError(f"--init: {cfg.init} is a {init.get('model')} {init.get('problem')} checkpoint; "
                             f"a {cfg.model} {cfg.problem} policy cannot start from it")
        if not same and (init.get("model") == "matnet") != (cfg.model == "matnet"):
            raise ValueError(f"--init: {cfg.init} is a {init.get('model')} {init.get('problem')} checkpoint; "
                             f"a {cfg.model} {cfg.problem} policy cannot start from it")
        # the architecture follows the initial weights (e.g. POMO training of an AM policy)
        policy_kwargs = {**dict(init["policy_kwargs"]), **cfg.policy_kwargs}
    check_policy_kwargs(policy_kwargs, cfg.model)
    policy = make_policy(cfg.model, adapter.env_name, policy_kwargs, cfg.problem)
    if init is not None:
        if init.get("problem") == cfg.problem:
            policy.load_state_dict(init["state_dict"])
        else:
            transfer = load_matching(policy, init["state_dict"])
            print(f"--init: {transfer[0]} of {transfer[1]} tensors from the {init.get('problem')} policy "
                  f"{cfg.init}; the rest start fresh", flush=True)
    common = {"batch_size": cfg.batch_size, "val_batch_size": min(cfg.batch_size * 2, 1024),
              "train_data_size": cfg.train_size, "val_data_size": cfg.val_size,
              "test_data_size": min(cfg.val_size, 100), "optimizer_kwargs": {"lr": cfg.lr}}
    if cfg.model == "am":
        lit = AttentionModel(env, policy=policy, baseline=baseline, **common)
    elif cfg.model == "matnet":
        from rl4co.models.zoo import MatNet

        lit = MatNet(env, policy=policy, **common)
    elif cfg.model == "deepaco":
        from rl4co.models.zoo import DeepACO

        # the shared baseline over the ants of each instance is DeepACO's own (baseline "no" in rl4co);
        # trained on the sampled tours themselves (rl4co's local-search augmentation is 2-opt for tsp only)
        lit = DeepACO(env, policy=policy, baseline="no", train_with_local_search=False, **common)
    else:
        lit = POMO(env, policy=policy, **common)

    val_instances = fixed_set(cfg.problem, cfg.size, "val", cfg.val_size, cfg.distribution, variants)
    meta = {"format": FORMAT, "problem": cfg.problem, "size": cfg.size, "model": cfg.model,
            "baseline": baseline, "distribution": cfg.distribution, "env_name": adapter.env_name,
            "variants": variants, "policy_kwargs": policy_kwargs, "normalisation": adapter.normalisation,
            "command": cfg.command or f"vrp train {_cfg_args(cfg)}", "seed": cfg.seed, "lr": cfg.lr,
            "batch_size": cfg.batch_size, "train_size": cfg.train_size, "init": cfg.init or "",
            "init_samples_seen": int(init.get("samples_seen", 0)) if init else 0,
            "init_command": str(init.get("command", "")) if init else "",
            "lineage": lineage(init, cfg.init) if init is not None and cfg.init else [],
            "versions": _versions()}
    commands = [meta["command"]]
    if cfg.resume and (out / "last.pt").exists():
        prev = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
        commands = _commands(prev) + commands
        # where the weights came from is the run's own record: the --init file may have been
        # overwritten since (e.g. by this run's own best.pt, shipped under the same name)
        for key in ("init", "init_samples_seen", "init_command", "lineage"):
            if key in prev:
                meta[key] = prev[key]
    meta["commands"] = commands  # every run that trained these weights, in order
    tracker = _tracker_class()(cfg, meta, val_instances, env)
    tracker.partial_init = transfer is not None
    progress = sys.stderr.isatty() if cfg.progress is None else cfg.progress
    devices: Any = int(cfg.devices) if str(cfg.devices).isdigit() else cfg.devices
    trainer = RL4COTrainer(
        max_epochs=cfg.epochs, accelerator=cfg.device, devices=devices, num_nodes=cfg.num_nodes,
        strategy=cfg.strategy, precision="32-true", logger=False, limit_val_batches=0,
        num_sanity_val_steps=0, enable_progress_bar=progress, enable_model_summary=False,
        callbacks=[tracker, ModelCheckpoint(dirpath=out, filename="full-{epoch:03d}", save_top_k=1,
                                            save_last=True, save_on_train_epoch_end=True),
                   *(callbacks or [])],
        matmul_precision=None,
    )
    # last.ckpt is this run's own full training state (it pickles rl4co's env in the
    # hyperparameters), so it is loaded with weights_only=False; shipped *.pt files are weights-only.
    # (RL4COTrainer.fit only adds handling for manual-optimisation models, which AM/POMO are not.)
    pl.Trainer.fit(trainer, lit, ckpt_path=str(ckpt_full) if cfg.resume else None,
                   weights_only=False if cfg.resume else None)
    release_run(lock)
    return out


def _commands(ck: dict[str, Any]) -> list[str]:
    """Every ``vrp train`` command that trained a checkpoint's weights (older files name only the last)."""
    return [str(c) for c in ck.get("commands", [ck.get("command", "")])]


def lineage(init: dict[str, Any], path: str) -> list[dict[str, Any]]:
    """Every training stage behind the weights of checkpoint ``init`` (read from ``path``), oldest first.

    A stage is ``{"file", "commands", "samples_seen", "wall_time_s"}``: the runs of one
    ``--out`` directory. Checkpoints written before ``lineage`` existed carry their
    history in ``init_lineage``/``init_commands``/``init_command`` and are read from those.
    """
    if "lineage" in init:
        earlier = [dict(st) for st in init["lineage"]]
    else:
        earlier = []
        old = init.get("init_lineage")  # the legacy fields of the checkpoint ``init`` started from
        if isinstance(old, dict) and old.get("init"):
            earlier.append({"file": str(old["init"]), "commands": [str(old.get("init_command", ""))],
                            "samples_seen": int(old.get("init_samples_seen", 0)), "wall_time_s": None})
        if init.get("init_commands") or init.get("init_command"):
            earlier.append({"file": str(init.get("init", "")),
                            "commands": [str(c) for c in init.get("init_commands", [init.get("init_command")])],
                            "samples_seen": int(init.get("init_samples_seen", 0)),
                            "wall_time_s": init.get("init_wall_time_s")})
    return earlier + [{"file": path, "commands": _commands(init), "samples_seen": int(init.get("samples_seen", 0)),
                       "wall_time_s": init.get("wall_time_s")}]


def _cfg_args(cfg: TrainConfig) -> str:
    parts = [f"--problem {cfg.problem}", f"--size {cfg.size}", f"--model {cfg.model}",
             f"--epochs {cfg.epochs}", f"--train-size {cfg.train_size}", f"--batch-size {cfg.batch_size}",
             f"--val-size {cfg.val_size}", f"--out {cfg.out}", f"--seed {cfg.seed}", f"--lr {cfg.lr}"]
    return " ".join(parts)


def _tracker_class() -> type:
    """The Lightning callback class (defined on first use: Lightning is imported lazily)."""
    global _TRACKER
    if _TRACKER is None:
        from lightning.pytorch.callbacks import Callback

        _TRACKER = type("EpochTracker", (_EpochTracker, Callback), {})
    return _TRACKER


_TRACKER: type | None = None


class _EpochTracker:
    """Per-epoch validation, CSV row, weights-only checkpoints, wall-time bound, resume state."""

    def __init__(self, cfg: TrainConfig, meta: dict[str, Any], val_instances: list, env: Any) -> None:
        super().__init__()
        self.cfg = cfg
        self.meta = meta
        self.val_instances = val_instances
        self.env = env
        self.out = Path(cfg.out)
        self.samples = 0
        self.wall = 0.0  # accumulated over runs
        self.best = math.inf
        self.resumed: dict[str, Any] | None = None
        self.run_start = time.monotonic()
        self.epoch_start = self.run_start
        self.last_epoch_s = 0.0
        self.epoch_end: float | None = None
        self.between_s = 0.0  # rl4co's work between epochs: baseline t-test, next epoch's data and rollouts
        self.sums: list[float] = [0.0, 0.0, 0.0]
        self.partial_init = False  # --init from another problem's policy: keep the baseline's warm-up

    # ---- resume state (saved in last.ckpt by Lightning) ----
    def state_dict(self) -> dict[str, Any]:
        bl = self._baseline()
        state = {"samples": self.samples, "wall": self.wall, "best": self.best,
                 "best_decode": val_decode(self.cfg.model), "between_s": self.between_s,
                 "generator_calls": self.env.generator.calls, "csv_rows": self._csv_rows()}
        if bl is not None and hasattr(bl, "alpha"):
            state["warmup_alpha"] = float(bl.alpha)
            v = getattr(bl.warmup_baseline, "v", None)
            state["warmup_v"] = None if v is None else float(v)
        inner = getattr(bl, "baseline", None)
        if inner is not None and getattr(inner, "dataset", None) is not None:
            # the rollout baseline's evaluation set and its values on it: drawing them again on
            # --resume would move the data stream and change the next t-test
            state["rollout_baseline"] = {"dataset": inner.dataset, "bl_vals": inner.bl_vals,
                                         "mean": float(inner.mean)}
        trainer = getattr(self._lit, "trainer", None) if getattr(self, "_lit", None) is not None else None
        if trainer is not None:
            # rl4co draws the next epoch's training data after this epoch, unless it was the last
            drawn = trainer.current_epoch < trainer.max_epochs - 1
            state["train_call"] = self.env.generator.calls - (1 if drawn else 0)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.samples = int(state["samples"])
        self.wall = float(state["wall"])
        self.best = float(state["best"])
        if state.get("best_decode", "greedy") != val_decode(self.cfg.model):
            # a run from before validation decoded as it does now: its best score is not comparable
            print(f"validation now decodes {val_decode(self.cfg.model)}: best.pt is chosen afresh from here",
                  flush=True)
            self.best = math.inf
        # the --max-time check after a resumed run's first epoch needs the time between epochs
        # before this process has measured one
        self.between_s = float(state.get("between_s", 0.0))
        self.resumed = dict(state)
        if "csv_rows" in state:
            self._trim_csv(int(state["csv_rows"]))

    def _csv_rows(self) -> int:
        path = self.out / "metrics.csv"
        if not path.exists():
            return 0
        with path.open() as fh:
            return max(sum(1 for _ in fh) - 1, 0)

    def _trim_csv(self, rows: int) -> None:
        """Drop the rows of epochs that ended after ``last.ckpt`` was written (a run killed
        between its CSV row and Lightning's checkpoint redoes that epoch on ``--resume``)."""
        path = self.out / "metrics.csv"
        if not path.exists():
            return
        lines = path.read_text().splitlines(keepends=True)
        if len(lines) > rows + 1:
            path.write_text("".join(lines[: rows + 1]))

    def _baseline(self) -> Any:
        lit = getattr(self, "_lit", None)
        return None if lit is None else getattr(lit, "baseline", None)

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        self._lit = pl_module

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self._lit = pl_module
        if self.resumed is None:
            bl = pl_module.baseline
            if self.cfg.init and not self.partial_init and hasattr(bl, "alpha") and bl.alpha == 0:
                # rl4co warms the rollout baseline up with an exponential one for an epoch: right
                # for random weights, but trained initial weights are a fine baseline from the
                # first step (with the warm-up, a fine-tuning run's first epoch undid progress).
                bl.alpha = 1.0
                pl_module.train_dataset = pl_module.wrap_dataset(pl_module.train_dataset)
            return
        import torch

        # Lightning restored weights, optimizer and epoch; restore what rl4co keeps outside
        # state_dict (warm-up of the rollout baseline, its evaluation set and values, the data
        # stream position), then draw this epoch's data where the interrupted run drew it.
        self.env.generator.calls = int(self.resumed["generator_calls"])
        bl = pl_module.baseline
        if hasattr(bl, "alpha") and "warmup_alpha" in self.resumed:
            bl.alpha = self.resumed["warmup_alpha"]
            if self.resumed.get("warmup_v") is not None:
                bl.warmup_baseline.v = torch.tensor(self.resumed["warmup_v"])
        inner = getattr(bl, "baseline", None)
        saved = self.resumed.get("rollout_baseline")
        if inner is not None and saved is not None:
            inner.dataset, inner.bl_vals, inner.mean = saved["dataset"], saved["bl_vals"], saved["mean"]
        elif inner is not None and hasattr(inner, "_update_policy") and getattr(inner, "policy", None) is not None:
            # checkpoints written before the baseline's state was saved: evaluate it afresh
            inner._update_policy(inner.policy, self.env, pl_module.val_batch_size, pl_module.device,
                                 pl_module.data_cfg["val_data_size"])
        if "train_call" in self.resumed:
            self.env.generator.calls = int(self.resumed["train_call"])
        pl_module.train_dataset = pl_module.wrap_dataset(
            self.env.dataset(pl_module.data_cfg["train_data_size"], phase="train"))

    # ---- epoch bookkeeping ----
    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        pl_module.policy.train()  # rl4co's baseline rollouts leave the policy in eval mode
        self.epoch_start = time.monotonic()
        if self.epoch_end is not None:
            self.between_s = self.epoch_start - self.epoch_end
        self.sums = [0.0, 0.0, 0.0]

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if batch_idx == 0:
            import torch

            # Sampling is seeded per epoch, so a resumed run decodes like an uninterrupted one.
            # Here rather than at epoch start: the data loader's iterator takes a draw from the
            # global generator when it is created, and a resumed run creates it at another point.
            torch.manual_seed(self.cfg.seed * 100_003 + trainer.current_epoch)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        n = int(batch.batch_size[0])
        self.samples += n
        reward = outputs.get("train/reward") if isinstance(outputs, dict) else None
        loss = outputs.get("loss") if isinstance(outputs, dict) else None
        self.sums[0] += n
        self.sums[1] += n * float(reward) if reward is not None else 0.0
        self.sums[2] += n * float(loss) if loss is not None else 0.0

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        from envs.adapters import NORMALISATION  # noqa: F401 - meta already names it

        epoch_s = time.monotonic() - self.epoch_start
        self.wall += epoch_s
        t0 = time.monotonic()
        decode = val_decode(self.cfg.model)
        costs = decode_costs(pl_module.policy, self.env, self.val_instances, device=str(pl_module.device),
                             problem=self.cfg.problem, decode=decode)
        val = validation_score(costs, self.val_instances, self.cfg.problem, self.cfg.size, decode)
        self.wall += time.monotonic() - t0
        self.last_epoch_s = time.monotonic() - self.epoch_start
        n = max(self.sums[0], 1.0)
        opt = trainer.optimizers[0] if trainer.optimizers else None
        row = {"epoch": trainer.current_epoch, "samples": self.samples,
               "train_reward": round(self.sums[1] / n, 5), "train_loss": round(self.sums[2] / n, 5),
               "val_cost": round(val["cost"], 4),
               "val_gap_pct": "" if val["gap_pct"] is None else round(val["gap_pct"], 3),
               "val_ref_n": val["ref_n"], "epoch_s": round(self.last_epoch_s, 1), "wall_s": round(self.wall, 1),
               "lr": opt.param_groups[0]["lr"] if opt else "", "val_decode": decode}
        path = self.out / "metrics.csv"
        new = not path.exists()
        if not new:
            _widen_csv(path)
        with path.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            if new:
                w.writeheader()
            w.writerow(row)
        print(f"epoch {row['epoch']}: samples {row['samples']} train_reward {row['train_reward']} "
              f"val_cost {row['val_cost']} val_gap {row['val_gap_pct'] or '-'}% ({row['epoch_s']} s, "
              f"total {row['wall_s']} s)", flush=True)
        meta = {**self.meta, "epoch": trainer.current_epoch, "samples_seen": self.samples,
                "wall_time_s": round(self.wall, 1),
                "total_samples_seen": self.samples + sum(int(st["samples_seen"]) for st in self.meta["lineage"]),
                "val": val}
        if trainer.is_global_zero:
            save_checkpoint(self.out / f"epoch-{trainer.current_epoch:03d}.pt", pl_module.policy, meta)
            save_checkpoint(self.out / "last.pt", pl_module.policy, meta)
            if val["score"] < self.best:
                self.best = val["score"]
                save_checkpoint(self.out / "best.pt", pl_module.policy, meta)
        if self.cfg.max_time is not None:
            elapsed = time.monotonic() - self.run_start
            # this epoch's end work, then one more epoch and its end work must fit
            if elapsed + self.last_epoch_s + 2 * self.between_s > self.cfg.max_time:
                print(f"stopping: {elapsed:.0f} s used of --max-time {self.cfg.max_time:.0f} s", flush=True)
                trainer.should_stop = True
                # make this the last epoch, so rl4co does not draw (and roll out) a next epoch's data
                trainer.fit_loop.max_epochs = trainer.current_epoch + 1
        self.epoch_end = time.monotonic()


def _widen_csv(path: Path) -> None:
    """Give a metrics CSV written before a column existed today's header (its old rows keep
    the new columns empty: ``val_decode`` empty means greedy)."""
    lines = path.read_text().splitlines(keepends=True)
    if lines and lines[0].strip() != ",".join(CSV_FIELDS):
        old = lines[0].strip().split(",")
        if old == CSV_FIELDS[:len(old)]:
            pad = "," * (len(CSV_FIELDS) - len(old))
            path.write_text(",".join(CSV_FIELDS) + "\n" + "".join(ln.rstrip("\n") + pad + "\n" for ln in lines[1:]))


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)
