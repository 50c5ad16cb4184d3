"""Stand-ins for the reference models whose outputs are known, for the evaluation tests."""

from __future__ import annotations

import numpy as np

from unisono.models.tagger import TagPrediction

FAST_TASKS = ["t2a", "timed", "edit_remove", "sr", "tts_clone", "question"]
FEMALE_PROBABILITY = 0.8


class FemaleTagger:
    """Hears every clip as a female voice playing a siren, whatever it is."""

    labels = {"event": ("siren", "dog bark"), "instrument": ("piano", "drums"),
              "voice": ("voice-a", "none"), "gender": ("female", "male", "none")}

    def predict(self, audio: np.ndarray, sample_rate: int) -> TagPrediction:
        rows = {"event": [0.9, 0.1], "instrument": [0.5, 0.5], "voice": [0.5, 0.5],
                "gender": [FEMALE_PROBABILITY, 0.15, 0.05]}
        return TagPrediction(labels=self.labels, probabilities={
            head: np.array([row], dtype=np.float32) for head, row in rows.items()})


class LevelEmbedder:
    """Frame embeddings (F, 3): log RMS, log peak and zero-crossing rate of 0.1 s frames."""

    name = "levels"
    sample_rate = 16000

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        size = sample_rate // 10
        frames = np.asarray(audio[:len(audio) // size * size], np.float64).reshape(-1, size)
        crossings = np.mean(np.abs(np.diff(np.sign(frames), axis=1)) > 0, axis=1)
        return np.stack([np.log(np.sqrt(np.mean(frames**2, axis=1)) + 1e-6),
                         np.log(np.max(np.abs(frames), axis=1) + 1e-6), crossings], axis=1)


def silent_transcriber(audio: np.ndarray, sample_rate: int) -> str:
    """Hears no words at all."""
    return ""


def fake_reference_models():  # noqa: ANN201
    """ReferenceModels of the stand-ins (no contrastive embedder)."""
    from unisono.evaluation import ReferenceModels
    from unisono.evaluation.references import CachedEmbedder, CachedTagger

    return ReferenceModels(tagger=CachedTagger(FemaleTagger()),
                           embedder=CachedEmbedder(LevelEmbedder()),
                           transcriber=silent_transcriber,
                           missing={"clap": "no contrastive embedder in these tests"})
