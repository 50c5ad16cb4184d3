"""Evaluation metrics: pure audio functions and metric objects with `update()` / `compute()`.

`METRIC_REGISTRY` maps each metric's name (as `unisono score --metrics` takes it) to its class.
`compute()` returns numbers, or "unavailable: <reason>" when a metric cannot run here.
"""

from unisono.metrics.audio import (
    METRICS,
    SI_SDR_CAP_DB,
    change_energy,
    log_mel_l1,
    log_spectral_distance,
    si_sdr,
)
from unisono.metrics.base import (
    ChangeEnergy,
    LogMelL1,
    LogSpectralDistance,
    Metric,
    MetricValue,
    PairedAudioMetric,
    ScaleInvariantSDR,
    is_unavailable,
    unavailable,
)
from unisono.metrics.caption import Bleu, CaptionMetric, CiderD, Meteor, RougeL, Spice, Spider
from unisono.metrics.embedding import (
    AisfxClassifier,
    AisfxEmbedder,
    Embedder,
    FrechetAudioDistance,
    FrechetDistance,
    InceptionScore,
    KLDivergence,
    LocalEmbedder,
    frechet_distance,
)
from unisono.metrics.pitch import F0Metrics
from unisono.metrics.speech import (
    Dnsmos,
    Pesq,
    SpeakerSimilarity,
    SpeechRemovalRate,
    Stoi,
    WordErrorRate,
)

METRIC_REGISTRY: dict[str, type[Metric]] = {
    "fd": FrechetDistance,
    "fad": FrechetAudioDistance,
    "kl": KLDivergence,
    "is": InceptionScore,
    "lsd": LogSpectralDistance,
    "log_mel_l1": LogMelL1,
    "si_sdr": ScaleInvariantSDR,
    "change_energy": ChangeEnergy,
    "pesq": Pesq,
    "stoi": Stoi,
    "dnsmos": Dnsmos,
    "wer": WordErrorRate,
    "speaker_similarity": SpeakerSimilarity,
    "speech_removal_rate": SpeechRemovalRate,
    "f0": F0Metrics,
    "bleu": Bleu,
    "meteor": Meteor,
    "rouge_l": RougeL,
    "cider_d": CiderD,
    "spice": Spice,
    "spider": Spider,
}

__all__ = [
    "METRICS", "METRIC_REGISTRY", "SI_SDR_CAP_DB", "AisfxClassifier", "AisfxEmbedder", "Bleu",
    "CaptionMetric", "ChangeEnergy", "CiderD", "Dnsmos", "Embedder", "F0Metrics", "FrechetAudioDistance",
    "FrechetDistance", "InceptionScore", "KLDivergence", "LocalEmbedder", "LogMelL1",
    "LogSpectralDistance", "Meteor", "Metric", "MetricValue", "PairedAudioMetric", "Pesq",
    "RougeL", "ScaleInvariantSDR", "SpeakerSimilarity", "SpeechRemovalRate", "Spice", "Spider", "change_energy",
    "Stoi", "WordErrorRate", "frechet_distance", "is_unavailable", "log_mel_l1",
    "log_spectral_distance", "si_sdr", "unavailable",
]
