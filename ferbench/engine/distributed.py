"""One run on several processes: torchrun's environment, the process group, and the collectives the engine uses.

``torchrun --nproc_per_node N -m ferbench run ...`` (or ``ferbench run --nproc N``,
which starts exactly that) sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``LOCAL_WORLD_SIZE`` in each process; :func:`context_from_env` reads them and
:func:`process_group` joins the group: NCCL on CUDA, gloo on CPU. Every helper
here is a no-op (or the identity) in a single process, so the engine calls them
unconditionally.

How the engine uses them: the model trains inside DistributedDataParallel, each
rank on its share of every batch (:class:`~ferbench.data.loading.EpochSampler`);
stages train on rank 0 and their weights are broadcast; evaluation runs sharded
and is gathered on every rank; only rank 0 writes checkpoints, records and PNGs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
from typing import Any, Iterator, TypeVar

import torch
import torch.distributed as dist
from torch import nn

T = TypeVar("T")

#: environment variable: minutes a rank waits for the others (a long stage on rank 0, say) before giving up
TIMEOUT_ENV = "FERBENCH_DIST_TIMEOUT_MIN"
DEFAULT_TIMEOUT_MIN = 180


@dataclasses.dataclass(frozen=True)
class DistContext:
    """This process's place in a torchrun run.

    Attributes:
        rank: global rank (0 writes results).
        world_size: processes in the run.
        local_rank: rank on this machine (picks the CUDA device).
        local_world_size: processes on this machine (share its CPU cores).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def active(self) -> bool:
        return self.world_size > 1


def context_from_env(env: dict[str, str] | None = None) -> DistContext:
    """The torchrun variables of ``env`` (default ``os.environ``); a plain process is rank 0 of 1."""
    env = os.environ if env is None else env
    world = int(env.get("WORLD_SIZE", "1") or 1)
    rank = int(env.get("RANK", "0") or 0)
    local_rank = int(env.get("LOCAL_RANK", str(rank)) or 0)
    local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)) or world)
    return DistContext(rank, world, local_rank, local_world)


def is_active() -> bool:
    """Whether a process group of more than one process is joined."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


@contextlib.contextmanager
def process_group(ctx: DistContext, device: torch.device) -> Iterator[None]:
    """Join the run's process group for the duration (nothing to do for a single process)."""
    if not ctx.active or is_active():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    minutes = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_MIN))
    dist.init_process_group(backend_for(device), rank=ctx.rank, world_size=ctx.world_size,
                            timeout=datetime.timedelta(minutes=minutes))
    try:
        yield
        # every rank leaves together: a rank that tore its gloo connections down while a peer was still
        # in its last collective made that peer abort ("terminate called without an active exception")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    if is_active():
        dist.barrier()


def broadcast_object(obj: T, src: int = 0) -> T:
    """``obj`` as rank ``src`` has it (picklable objects)."""
    if not is_active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` in a single process)."""
    if not is_active():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sums(values: list[float], device: torch.device | None = None) -> list[float]:
    """Element-wise sums over the ranks (float64)."""
    if not is_active() or not values:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def batch_share(n_local: int, device: torch.device | None = None) -> torch.Tensor | float:
    """``n_local * world_size / n_all`` for a batch split between the ranks (1.0 in a single process).

    DistributedDataParallel averages gradients over the ranks; a rank's loss (a mean over its
    ``n_local`` samples) multiplied by this factor makes that average the gradient of the mean
    over all ``n_all`` samples of the batch, as one process would compute it, also when the
    batch does not split evenly. Stays on ``device`` (no synchronisation with the host).
    """
    if not is_active():
        return 1.0
    n = torch.tensor(float(n_local), device=device)
    total = n.clone()
    dist.all_reduce(total)
    return n * dist.get_world_size() / total


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Overwrite ``module``'s parameters and buffers with rank ``src``'s, in place."""
    if not is_active():
        return
    with torch.no_grad():
        for tensor in module.state_dict().values():
            dist.broadcast(tensor, src=src)


def wrap_ddp(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` inside DistributedDataParallel when a process group is joined, else itself.

    ``find_unused_parameters=True``: components may leave parameters out of some steps
    (a loss that starts after a warm-up, a branch an option turns off).
    """
    if not is_active():
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)
