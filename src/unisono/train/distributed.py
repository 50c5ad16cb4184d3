"""One process or many: the same trainer runs alone or under `torchrun --nproc_per_node=K`.

torchrun sets RANK / WORLD_SIZE / LOCAL_RANK; we then join a process group (gloo on CPU, nccl on
GPUs) and wrap the model in DDP (or FSDP2's `fully_shard` for the large presets). Each process
builds its own share of every global batch (examples `rank * batch_size ...`), so the global batch
and its examples do not depend on the number of processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn

from unisono.errors import UnisonoError


@dataclass(frozen=True)
class ProcessInfo:
    """Where this process sits in the run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """The process that writes checkpoints, logs and the progress bar."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int) -> torch.device:
    """"auto" picks this process's GPU when there is one, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UnisonoError("run.device is cuda but no GPU is visible; use run.device=cpu.")
        return torch.device("cuda", local_rank)
    if name != "cpu":
        raise UnisonoError(f"run.device {name!r}: choose auto, cpu or cuda.")
    return torch.device("cpu")


def setup_processes(device: str) -> ProcessInfo:
    """Join the process group when launched by torchrun; a plain run is a group of one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return ProcessInfo(device=resolve_device(device, 0))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if not torch.distributed.is_initialized():
        backend = "nccl" if resolved.type == "cuda" else "gloo"
        if resolved.type == "cuda":
            torch.cuda.set_device(resolved)
        torch.distributed.init_process_group(backend=backend)
    return ProcessInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=resolved)


def wrap_model(model: nn.Module, info: ProcessInfo, strategy: str) -> nn.Module:
    """DDP or FSDP2 around the model for a multi-process run; the model itself otherwise."""
    if not info.distributed:
        return model
    if strategy == "ddp":
        device_ids = [info.device.index] if info.device.type == "cuda" else None
        # Task-specific parts (content encoder, caption stream) sit idle in other tasks' batches.
        return nn.parallel.DistributedDataParallel(
            model, device_ids=device_ids, find_unused_parameters=True
        )
    if strategy == "fsdp":
        from torch.distributed.fsdp import fully_shard

        # The objective wraps the generator: each block is a unit, the rest one root unit. A
        # block's instruction projections are called on their own (once per request, before the
        # blocks run), so they are a unit of their own, gathered when called.
        backbone = getattr(model, "model", model)
        for block in backbone.blocks:
            fully_shard(block.instruction)
            fully_shard(block)
        fully_shard(model)
        return model
    raise UnisonoError(f"run.strategy {strategy!r}: choose ddp or fsdp.")


def unwrap(model: nn.Module) -> nn.Module:
    """The bare model inside a DDP wrapper (FSDP2 shards in place and needs none)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def full_state_dict(model: nn.Module, info: ProcessInfo, strategy: str) -> dict[str, torch.Tensor]:
    """Unsharded CPU weights (every process must call this under FSDP)."""
    bare = unwrap(model)
    if info.distributed and strategy == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(
            bare, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
    return {k: v.detach().to("cpu") for k, v in bare.state_dict().items()}


def average(value: float, info: ProcessInfo) -> float:
    """Mean of a scalar over processes (for logging)."""
    if not info.distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=info.device)
    torch.distributed.all_reduce(tensor)
    return float(tensor.item()) / info.world_size


def barrier(info: ProcessInfo) -> None:
    """Wait for every process (no-op alone)."""
    if info.distributed:
        torch.distributed.barrier()


def teardown(info: ProcessInfo) -> None:
    """Leave the process group."""
    if info.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def gathered(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict with FSDP's sharded tensors gathered whole, on the CPU (every process must
    call this when any value is sharded)."""
    from torch.distributed.tensor import DTensor

    return {k: (v.full_tensor() if isinstance(v, DTensor) else v).detach().to("cpu")
            for k, v in state.items()}


def sharded_like(state: dict[str, torch.Tensor], like: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
    """Whole tensors `state` split as the same keys of `like` are (FSDP's sharded tensors keep
    their mesh and placements; plain tensors move to their device)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    return {k: (distribute_tensor(v.to(like[k].device_mesh.device_type), like[k].device_mesh,
                                  like[k].placements)
                if isinstance(like[k], DTensor) else v.to(like[k].device))
            for k, v in state.items()}


def optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, info: ProcessInfo,
                    strategy: str) -> dict:
    """The optimizer's state for a checkpoint: under FSDP gathered whole from every process's
    shards (every process must call this), so a run resumes on any number of processes."""
    if info.distributed and strategy == "fsdp":
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            get_optimizer_state_dict,
        )

        return get_optimizer_state_dict(
            model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return optimizer.state_dict()


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict,
                         info: ProcessInfo, strategy: str) -> None:
    """Load a checkpoint's optimizer state (under FSDP each process keeps its shards of it)."""
    if info.distributed and strategy == "fsdp":
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            set_optimizer_state_dict,
        )

        set_optimizer_state_dict(model, optimizer, optim_state_dict=state,
                                 options=StateDictOptions(full_state_dict=True))
        return
    optimizer.load_state_dict(state)
