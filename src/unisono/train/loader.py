"""Training batches built ahead of the optimiser, in loader worker processes when asked.

A step's batch is a pure function of (seed, step, offset) (`batches.py`), so any process can build
any step. `BatchStream` yields, for one training process, each step's micro-batches in step order;
under a `DataLoader` with K workers, worker w builds steps start + w, start + w + K, ... and the
loader hands them back round-robin, which is step order again. So `data.workers` changes where
batches are built, never which batches a run trains on, and resume stays exact.

Shapes: see `GeneratorBatch`.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from unisono.errors import UnisonoError
from unisono.train.batches import BatchAssembler, ExampleSampler, GeneratorBatch


class BatchStream(IterableDataset):
    """(step, micro-batches) for steps [start, stop) of one process of a (multi-process) run.

    Args:
        sampler: chooses each step's task and examples.
        assembler: encodes examples into a batch.
        start: first step (the resume point).
        stop: one past the last step.
        batch_size: examples per micro-batch of this process.
        world_size: training processes (each builds its own share of every global batch).
        rank: this process.
        grad_accumulation: micro-batches per optimisation step.
        seed: the run's seed.
    """

    def __init__(self, sampler: ExampleSampler, assembler: BatchAssembler, *, start: int,
                 stop: int, batch_size: int, world_size: int = 1, rank: int = 0,
                 grad_accumulation: int = 1, seed: int = 0) -> None:
        super().__init__()
        self.sampler = sampler
        self.assembler = assembler
        self.start, self.stop = start, stop
        self.batch_size = batch_size
        self.world_size, self.rank = world_size, rank
        self.grad_accumulation = grad_accumulation
        self.seed = seed

    def offset(self, micro: int) -> int:
        """Index of this process's first example of micro-batch `micro` within the step."""
        return (micro * self.world_size + self.rank) * self.batch_size

    def build(self, step: int) -> list[GeneratorBatch]:
        """The micro-batches of step `step` for this process."""
        batches = []
        for micro in range(self.grad_accumulation):
            offset = self.offset(micro)
            examples = self.sampler.examples(step, self.batch_size, offset=offset)
            batches.append(self.assembler.assemble(examples, step=step, seed=self.seed,
                                                   offset=offset))
        return batches

    def __iter__(self) -> Iterator[tuple[int, list[GeneratorBatch]]]:
        worker = get_worker_info()
        first, stride = (0, 1) if worker is None else (worker.id, worker.num_workers)
        for step in range(self.start + first, self.stop, stride):
            yield step, self.build(step)


def batch_stream(stream: BatchStream, *, workers: int = 0, prefetch: int = 2
                 ) -> Iterator[tuple[int, list[GeneratorBatch]]]:
    """Iterate `stream` in this process (workers=0) or in `workers` loader processes, each
    keeping `prefetch` steps ready (each worker runs torch with one thread)."""
    if workers < 0 or prefetch < 1:
        raise UnisonoError(f"data.workers must be >= 0 and data.prefetch >= 1; got {workers} "
                           f"and {prefetch}.")
    if workers == 0:
        return iter(stream)
    loader = DataLoader(stream, batch_size=None, num_workers=workers, prefetch_factor=prefetch,
                        collate_fn=_keep)
    return iter(loader)


def _keep(item: tuple[int, list[GeneratorBatch]]) -> tuple[int, list[GeneratorBatch]]:
    """No collation: a worker's item is already a step's batches."""
    return item
