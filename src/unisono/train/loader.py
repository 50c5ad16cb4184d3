"""Training examples built ahead of the optimiser, in loader worker processes when asked, and
encoded into batches by the training process.

A step's examples and batch are pure functions of (seed, step, offset) (`batches.py`), so any
process can build any step. `ExampleStream` yields, for one training process, each step's
micro-batches of examples in step order; under a `DataLoader` with K workers, worker w builds
steps start + w, start + w + K, ... and the loader hands them back round-robin, which is step order
again. So `data.workers` changes where examples are built, never which batches a run trains on, and
resume stays exact.

Workers only synthesise (clip loading, augmentation, mixing: CPU work). The codec and text
encodings run in the training process (`batch_stream`), the codec on the trainer's device: a GPU
encodes a batch in milliseconds, where loader processes would spend most of their time on it.

Shapes: see `GeneratorBatch`.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from unisono.errors import UnisonoError
from unisono.tasks import TaskExample
from unisono.train.batches import BatchAssembler, ExampleSampler, GeneratorBatch

StepExamples = tuple[int, list[list[TaskExample]]]


class ExampleStream(IterableDataset):
    """(step, micro-batches of examples) for steps [start, stop) of one process of a
    (multi-process) run.

    Args:
        sampler: chooses each step's task and builds its examples.
        start: first step (the resume point).
        stop: one past the last step.
        batch_size: examples per micro-batch of this process.
        world_size: training processes (each builds its own share of every global batch).
        rank: this process.
        grad_accumulation: micro-batches per optimisation step.
        seed: the run's seed.
    """

    def __init__(self, sampler: ExampleSampler, *, start: int, stop: int, batch_size: int,
                 world_size: int = 1, rank: int = 0, grad_accumulation: int = 1,
                 seed: int = 0) -> None:
        super().__init__()
        self.sampler = sampler
        self.start, self.stop = start, stop
        self.batch_size = batch_size
        self.world_size, self.rank = world_size, rank
        self.grad_accumulation = grad_accumulation
        self.seed = seed

    def offset(self, micro: int) -> int:
        """Index of this process's first example of micro-batch `micro` within the step."""
        return (micro * self.world_size + self.rank) * self.batch_size

    def build(self, step: int) -> list[list[TaskExample]]:
        """The micro-batches of examples of step `step` for this process."""
        return [self.sampler.examples(step, self.batch_size, offset=self.offset(micro))
                for micro in range(self.grad_accumulation)]

    def __iter__(self) -> Iterator[StepExamples]:
        worker = get_worker_info()
        first, stride = (0, 1) if worker is None else (worker.id, worker.num_workers)
        for step in range(self.start + first, self.stop, stride):
            yield step, self.build(step)


def batch_stream(stream: ExampleStream, assembler: BatchAssembler, *, workers: int = 0,
                 prefetch: int = 2) -> Iterator[tuple[int, list[GeneratorBatch]]]:
    """(step, encoded micro-batches) in step order: examples built in this process (workers=0)
    or in `workers` loader processes, each keeping `prefetch` steps ready with one torch thread;
    encoded here by `assembler`."""
    if workers < 0 or prefetch < 1:
        raise UnisonoError(f"data.workers must be >= 0 and data.prefetch >= 1; got {workers} "
                           f"and {prefetch}.")
    if workers == 0:
        built: Iterator[StepExamples] = iter(stream)
    else:
        built = iter(DataLoader(stream, batch_size=None, num_workers=workers,
                                prefetch_factor=prefetch, collate_fn=_keep))
    return _encoded(built, stream, assembler)


def _encoded(built: Iterator[StepExamples], stream: ExampleStream, assembler: BatchAssembler
             ) -> Iterator[tuple[int, list[GeneratorBatch]]]:
    for step, micro_batches in built:
        yield step, [assembler.assemble(examples, step=step, seed=stream.seed,
                                        offset=stream.offset(micro))
                     for micro, examples in enumerate(micro_batches)]


def _keep(item: StepExamples) -> StepExamples:
    """No collation: a worker's item is already a step's examples."""
    return item
