"""The reference models an evaluation consults, loaded once and memoised per clip.

`ReferenceModels` holds the tagger (event classes, gender, instrument; KL / IS), the contrastive
embedder (CLAP score), the FD / FAD embedder (aiSFX) and the speech transcriber (Whisper-tiny,
through `unisono.metrics.WordErrorRate`). A model that cannot be loaded here is kept as the
reason why, and every metric that needs it reports "unavailable: <reason>".

Several metrics read the same model on the same clip (FD and FAD one embedding; KL, IS, class
accuracy and gender one tagger pass), so the wrappers memoise outputs by the clip's bytes.

Shapes: S samples, F embedding frames, E embedding width, K labels of a tagger head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unisono.errors import UnisonoError
from unisono.metrics.base import missing_package
from unisono.metrics.embedding import AISFX_INSTALL

Transcriber = Callable[[np.ndarray, int], str]


def clip_key(audio: np.ndarray, sample_rate: int) -> tuple[str, int, int]:
    """A memo key for a clip: the SHA-1 of its float32 bytes, its length and its rate."""
    samples = np.ascontiguousarray(audio, dtype=np.float32)
    return hashlib.sha1(samples.tobytes()).hexdigest(), samples.shape[0], int(sample_rate)


class CachedTagger:
    """A tagger whose `predict(clip, sample_rate)` on one clip is computed once per clip."""

    def __init__(self, tagger: Any) -> None:
        self.tagger = tagger
        self._memo: dict[tuple[str, int, int], Any] = {}

    def predict(self, audio: np.ndarray, sample_rate: int) -> Any:
        """The tagger's one-row `TagPrediction` of a clip (S,)."""
        key = clip_key(audio, sample_rate)
        if key not in self._memo:
            self._memo[key] = self.tagger.predict(np.asarray(audio, np.float32), sample_rate)
        return self._memo[key]


class TagClassifier:
    """A KL / IS classifier from one tagger head: its probabilities scaled to sum to one (the
    event and instrument heads are multi-label sigmoids)."""

    def __init__(self, tagger: CachedTagger, head: str) -> None:
        self.tagger = tagger
        self.head = head
        self.name = f"tagger-{head}"

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        row = np.asarray(self.tagger.predict(audio, sample_rate).probabilities[self.head][0],
                         dtype=np.float64)
        total = float(row.sum())
        return row / total if total > 0 else np.full(row.shape, 1.0 / row.size)


class CachedEmbedder:
    """An FD / FAD embedder whose frames for one clip are computed once."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.sample_rate = embedder.sample_rate
        self._memo: dict[tuple[str, int, int], np.ndarray] = {}

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        key = clip_key(audio, sample_rate)
        if key not in self._memo:
            self._memo[key] = self.embedder(audio, sample_rate)
        return self._memo[key]


@dataclass
class ReferenceModels:
    """The models behind the metrics; a missing one is None with the reason in `missing`.

    Attributes:
        tagger: a tagger (`predict(audio, sample_rate) -> TagPrediction`), memoised.
        clap: a contrastive embedder (`score(audio, text, sample_rate) -> (B,)`).
        embedder: the FD / FAD embedder, memoised.
        transcriber: replaces Whisper-tiny in WER and speech removal (tests); None: Whisper.
        missing: model name ("tagger", "clap", "embedder") -> why it is unavailable.
    """

    tagger: CachedTagger | None = None
    clap: Any = None
    embedder: CachedEmbedder | None = None
    transcriber: Transcriber | None = None
    missing: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, *, tagger_dir: str | Path | None = None, clap_dir: str | Path | None = None,
             embedder: Any = None, transcriber: Transcriber | None = None) -> ReferenceModels:
        """Load the shipped (or given) tagger and contrastive embedder and the aiSFX embedder.

        Args:
            tagger_dir: a tagger folder; None for the one shipped in the package.
            clap_dir: a contrastive-embedder folder; None for the shipped one.
            embedder: an FD / FAD embedder (e.g. `unisono.metrics.LocalEmbedder`); None: aiSFX.
            transcriber: a speech transcriber replacing Whisper-tiny.
        """
        from unisono.models.clap import ContrastiveEmbedder
        from unisono.models.tagger import Tagger

        models = cls(transcriber=transcriber)
        try:
            models.tagger = CachedTagger(Tagger.from_pretrained(tagger_dir))
        except UnisonoError as error:
            models.missing["tagger"] = f"the reference tagger is not available ({error})"
        try:
            models.clap = ContrastiveEmbedder.from_pretrained(clap_dir)
        except UnisonoError as error:
            models.missing["clap"] = f"the contrastive embedder is not available ({error})"
        if embedder is None:
            reason = missing_package("aisfx", AISFX_INSTALL)
            if reason is None:
                from unisono.metrics.embedding import AisfxEmbedder

                embedder = AisfxEmbedder()
            else:
                models.missing["embedder"] = reason
        if embedder is not None:
            models.embedder = CachedEmbedder(embedder)
            if models.tagger is not None:  # one aiSFX pass per clip for FD and the probe
                models.tagger.tagger.share_probe_embedder(models.embedder)
        return models

    def reason(self, name: str) -> str | None:
        """Why model `name` ("tagger", "clap", "embedder") is unavailable, or None."""
        if getattr(self, name) is None:
            return self.missing.get(name, f"no {name} was given")
        return None
