"""``HCVRPEnv``: a fixed fleet of vehicles with their own capacities, one route each.

Our model's hcvrp: ``m`` vehicles with capacities ``Q_k``, route ``k`` driven by vehicle
``k``, total distance minimised, every customer served. rl4co has no such env; this one
follows its routing envs (``CVRPEnv`` in particular):

- the vehicles leave one after the other, largest capacity first (the adapter sorts
  them and maps routes back); every visit to the depot ends the current vehicle's route
  (from the depot itself: the vehicle stays unused) and starts the next one's;
- a customer can be visited if not yet served and its demand fits the current vehicle;
- the depot can be chosen only if the vehicles still to come can hold the demand still
  unserved (a necessary condition of a complete plan), or when nothing else is allowed
  (then the plan runs out of vehicles and the evaluator reports the missing customers);
- the episode ends when every customer is served, or after the last vehicle's route;
- reward: minus the length of the closed tour through the depot visits.

Input keys (from :mod:`envs.hcvrp.adapter`): ``depot`` (2,), ``locs`` (N, 2) customers,
``demand`` (N,) and ``capacities`` (m,), both divided by the largest capacity.
"""

from __future__ import annotations

import torch
from rl4co.envs.common.base import RL4COEnvBase
from rl4co.utils.ops import gather_by_index, get_tour_length
from tensordict import TensorDict
from torchrl.data import Bounded, Composite, Unbounded

EPS = 1e-5


class HCVRPEnv(RL4COEnvBase):
    """Heterogeneous capacitated VRP with a fixed fleet, vehicles used in sequence."""

    name = "hcvrp"

    def __init__(self, generator=None, generator_params: dict | None = None, **kwargs) -> None:  # noqa: ANN001
        super().__init__(**kwargs)
        if generator is None:
            from envs.rl4co_gen import VrpGenerator

            generator = VrpGenerator("hcvrp", **(generator_params or {"size": 20}))
        self.generator = generator
        self._make_spec(generator)

    def _reset(self, td: TensorDict | None = None, batch_size: list | None = None) -> TensorDict:
        assert td is not None and batch_size is not None  # rl4co's reset() passes both
        device = td.device
        caps = td["capacities"]
        # after[k] = capacity of the vehicles after vehicle k (0 for the last)
        after = caps.flip(-1).cumsum(-1).flip(-1) - caps
        td_reset = TensorDict(
            {
                "locs": torch.cat((td["depot"][:, None, :], td["locs"]), -2),
                "demand": td["demand"],
                "capacities": caps,
                "capacity_after": after,
                "vehicle": torch.zeros(*batch_size, 1, dtype=torch.long, device=device),
                "vehicle_capacity": caps[:, :1].clone(),
                "used_capacity": torch.zeros(*batch_size, 1, device=device),
                "current_node": torch.zeros(*batch_size, 1, dtype=torch.long, device=device),
                "visited": torch.zeros((*batch_size, td["locs"].shape[-2] + 1), dtype=torch.bool, device=device),
            },
            batch_size=batch_size,
        )
        td_reset.set("action_mask", self.get_action_mask(td_reset))
        return td_reset

    def _step(self, td: TensorDict) -> TensorDict:
        current_node = td["action"][:, None]
        n_loc = td["demand"].size(-1)
        at_depot = current_node == 0
        selected = gather_by_index(td["demand"], torch.clamp(current_node - 1, 0, n_loc - 1), squeeze=False)
        used = (td["used_capacity"] + selected) * (~at_depot).float()
        m = td["capacities"].size(-1)
        vehicle = td["vehicle"] + at_depot.long()
        has_vehicle = vehicle < m
        vehicle_capacity = gather_by_index(td["capacities"], vehicle.clamp(max=m - 1), squeeze=False)
        vehicle_capacity = vehicle_capacity * has_vehicle.float()
        visited = td["visited"].scatter(-1, current_node, True)
        done = visited[..., 1:].all(-1) | ~has_vehicle.squeeze(-1)
        td.update({"current_node": current_node, "used_capacity": used, "vehicle": vehicle,
                   "vehicle_capacity": vehicle_capacity, "visited": visited, "done": done,
                   "reward": torch.zeros_like(done, dtype=torch.float32)})
        td.set("action_mask", self.get_action_mask(td))
        return td

    @staticmethod
    def remaining_demand(td: TensorDict) -> torch.Tensor:
        """Demand not yet served, shape (B, 1)."""
        return (td["demand"] * (~td["visited"][..., 1:]).float()).sum(-1, keepdim=True)

    @staticmethod
    def get_action_mask(td: TensorDict) -> torch.Tensor:
        fits = td["demand"] + td["used_capacity"] <= td["vehicle_capacity"] + EPS
        can_customer = ~td["visited"][..., 1:] & fits
        m = td["capacities"].size(-1)
        after = gather_by_index(td["capacity_after"], td["vehicle"].clamp(max=m - 1), squeeze=False)
        remaining = HCVRPEnv.remaining_demand(td)
        finished = td["visited"][..., 1:].all(-1, keepdim=True)
        can_depot = finished | ((remaining <= after + EPS) & (remaining > 0))
        # nothing else allowed: the depot (the plan then runs out of vehicles, visibly)
        stuck = ~can_customer.any(-1, keepdim=True) & ~can_depot
        return torch.cat((can_depot | stuck, can_customer), -1)

    def _get_reward(self, td: TensorDict, actions: torch.Tensor) -> torch.Tensor:
        locs_ordered = torch.cat([td["locs"][..., 0:1, :], gather_by_index(td["locs"], actions)], dim=1)
        return -get_tour_length(locs_ordered)

    @staticmethod
    def check_solution_validity(td: TensorDict, actions: torch.Tensor) -> None:
        """Every customer once, each vehicle within its capacity, at most ``m`` routes."""
        n_loc = td["demand"].size(-1)
        m = td["capacities"].size(-1)
        for b in range(actions.size(0)):
            acts = actions[b].tolist()
            served = [a for a in acts if a != 0]
            assert sorted(served) == list(range(1, n_loc + 1)), "every customer exactly once"
            k, load = 0, 0.0
            for a in acts:
                if a == 0:
                    k, load = k + 1, 0.0
                    continue
                assert k < m, "more routes than vehicles"
                load += float(td["demand"][b, a - 1])
                assert load <= float(td["capacities"][b, k]) + EPS, "capacity"

    def _make_spec(self, generator) -> None:  # noqa: ANN001
        n = int(generator.num_loc)
        self.observation_spec = Composite(
            locs=Bounded(low=0.0, high=1.0, shape=(n + 1, 2), dtype=torch.float32),
            current_node=Unbounded(shape=(1,), dtype=torch.int64),
            demand=Bounded(low=0.0, high=1.0, shape=(n,), dtype=torch.float32),
            action_mask=Unbounded(shape=(n + 1,), dtype=torch.bool),
            shape=(),
        )
        self.action_spec = Bounded(shape=(1,), dtype=torch.int64, low=0, high=n + 1)
        self.reward_spec = Unbounded(shape=(1,))
        self.done_spec = Unbounded(shape=(1,), dtype=torch.bool)
