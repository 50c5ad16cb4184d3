"""The generator trainer (`unisono train`): config, latent cache, batches, loop."""

from unisono.train.config import (
    FlowConfig,
    GeneratorDataConfig,
    GeneratorRunConfig,
    TrainGeneratorConfig,
)
from unisono.train.trainer import train_generator

__all__ = [
    "FlowConfig",
    "GeneratorDataConfig",
    "GeneratorRunConfig",
    "TrainGeneratorConfig",
    "train_generator",
]
