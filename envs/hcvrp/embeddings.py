"""The attention model's HCVRP embeddings: rl4co's VRP node embedding, our fleet context."""

from __future__ import annotations

import torch
from rl4co.models.nn.env_embeddings.context import EnvContext
from rl4co.models.nn.env_embeddings.dynamic import StaticEmbedding
from rl4co.models.nn.env_embeddings.init import VRPInitEmbedding
from torch import nn


class HCVRPContext(EnvContext):
    """Current node, plus: the current vehicle's room left, the demand still unserved, the
    capacity of the vehicles still to come, and the share of the fleet still to come."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__(embed_dim=embed_dim, step_context_dim=embed_dim + 4)

    def _state_embedding(self, embeddings: torch.Tensor, td) -> torch.Tensor:  # noqa: ANN001
        m = td["capacities"].size(-1)
        vehicle = td["vehicle"].clamp(max=m - 1)
        room = td["vehicle_capacity"] - td["used_capacity"]
        remaining = (td["demand"] * (~td["visited"][..., 1:]).float()).sum(-1, keepdim=True)
        # along the last dim: the batch may be (instances, samples) (rl4co's num_samples path)
        after = torch.gather(td["capacity_after"], -1, vehicle)
        left = (m - td["vehicle"]).clamp(min=0).float() / m
        return torch.cat([room, remaining, after, left], -1)


def policy_modules(embed_dim: int) -> dict[str, nn.Module]:
    """``init_embedding``, ``context_embedding`` and ``dynamic_embedding`` for rl4co's AM policy."""
    return {"init_embedding": VRPInitEmbedding(embed_dim), "context_embedding": HCVRPContext(embed_dim),
            "dynamic_embedding": StaticEmbedding(embed_dim)}
