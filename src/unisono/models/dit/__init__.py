"""The unified generator backbone: a DeepFusion MM-DiT (UNISON 3.4) with UniFlow-Audio's dual
fusion of time-aligned content, a clip-duration predictor, and named size presets."""

from unisono.models.dit.config import PRESETS, DiTConfig, dit_preset
from unisono.models.dit.model import DiT, DurationPredictor, pooled_text

__all__ = ["PRESETS", "DiT", "DiTConfig", "DurationPredictor", "dit_preset", "pooled_text"]
