"""The reference tagger: event classes, instruments, voice and gender of a clip, from 16 kHz log-mel.

A small CNN (`unisono.models.refnet.ConvBackbone`) pooled over time feeds four heads, listed in
`HEADS`: "event" (multi-label, sigmoid: the world's procedural classes, the recorded clips' labels,
the background beds and the coarse labels speech / singing / music), "instrument" (multi-label,
sigmoid: the General MIDI instruments of the world plus "drums"), "voice" (one of the world's
voices or "none", softmax) and "gender" ("female", "male" or "none", softmax). The label names
live in the config, so a checkpoint folder is self-describing.

Evaluation uses it for KL / IS (class probabilities), FD (`embed`) and presence / absence checks.
Clips of any length are cut into windows of `window_seconds`; window probabilities are pooled per
clip by max (sigmoid heads: present anywhere) or by a length-weighted mean (softmax heads).

Shapes: B clips, W windows, M mel bins, T mel frames, K labels of a head, D embedding width.
"""

from __future__ import annotations

import difflib
import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from unisono.config import config_from_dict
from unisono.errors import UnisonoError
from unisono.models.pretrained import save_model_folder
from unisono.models.refnet import (
    BackboneConfig,
    ConvBackbone,
    MelConfig,
    clips_of_inputs,
    compute_log_mel,
    load_folder,
    load_state,
    masked_pool,
    mels_of_inputs,
    pad_batch,
    split_windows,
    window_frames,
)

# head -> activation; "sigmoid" heads are multi-label, "softmax" heads pick one label
HEADS: dict[str, str] = {"event": "sigmoid", "instrument": "sigmoid", "voice": "softmax",
                         "gender": "softmax"}
NONE_LABEL = "none"


@dataclass
class ProbeConfig:
    """An event-head probe on pretrained aiSFX embeddings, fused with the CNN's event logits.

    The clip's audio at `sample_rate` is embedded by aiSFX (`unisono.metrics.embedding`), its
    frames pooled to [mean, max] (2 x 512 features), standardised by the stored mean / std and
    mapped to event logits by a linear layer (`hidden` 0) or an MLP; the event head then reads
    `sigmoid((1 - weight) logit(p_cnn) + weight probe_logit)`. See
    `unisono.refmodels.probe_train` (`unisono train-tagger-probe`) for how one is fitted.

    Attributes:
        features: probe input width (aiSFX mean + max).
        hidden: MLP width; 0 for a linear probe.
        weight: fusion weight of the probe's logits (0: the CNN alone, 1: the probe alone).
        sample_rate: rate the audio is brought to before embedding (the codec's and the world's).
    """

    features: int = 1024
    hidden: int = 0
    weight: float = 0.7
    sample_rate: int = 16000


@dataclass
class TaggerConfig:
    """A tagger: features, network and the label names of every head.

    Attributes:
        mel: log-mel front end.
        backbone: the CNN.
        events: labels of the "event" head.
        instruments: labels of the "instrument" head.
        voices: labels of the "voice" head (the last one is "none").
        genders: labels of the "gender" head.
        hidden: width D of the clip embedding between pooling and the heads.
        window_seconds: longest stretch the network sees at once (its training length).
        window_hop_seconds: hop between windows of longer clips.
        probe: an optional aiSFX probe fused into the event head (None: the CNN alone).
    """

    mel: MelConfig = field(default_factory=MelConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    events: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    voices: list[str] = field(default_factory=lambda: [NONE_LABEL])
    genders: list[str] = field(default_factory=lambda: ["female", "male", NONE_LABEL])
    hidden: int = 256
    window_seconds: float = 10.0
    window_hop_seconds: float = 5.0
    probe: ProbeConfig | None = None

    def labels(self, head: str) -> list[str]:
        """Label names of `head` (one of `HEADS`)."""
        return {"event": self.events, "instrument": self.instruments, "voice": self.voices,
                "gender": self.genders}[_check_head(head)]


def _check_head(head: str) -> str:
    if head not in HEADS:
        raise UnisonoError(f"unknown tagger head {head!r}; use one of {', '.join(HEADS)}")
    return head


@dataclass(frozen=True)
class TagPrediction:
    """Per-clip probabilities of every head.

    Attributes:
        labels: head -> label names (K,).
        probabilities: head -> (B, K) float32; sigmoid heads are independent per label, softmax
            heads sum to one per clip.
    """

    labels: dict[str, tuple[str, ...]]
    probabilities: dict[str, np.ndarray]

    def __len__(self) -> int:
        return next(iter(self.probabilities.values())).shape[0]

    def index_of(self, head: str, label: str) -> int:
        """Column of `label` in `probabilities[head]`."""
        names = self.labels[_check_head(head)]
        if label not in names:
            close = difflib.get_close_matches(label, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnisonoError(f"{label!r} is not a label of the tagger's {head!r} head.{hint}")
        return names.index(label)

    def score(self, head: str, label: str) -> np.ndarray:
        """(B,) probability of one label for every clip."""
        return self.probabilities[head][:, self.index_of(head, label)]

    def top(self, head: str, k: int = 1, *, index: int = 0) -> list[tuple[str, float]]:
        """The `k` most probable labels of clip `index`, best first."""
        row = self.probabilities[_check_head(head)][index]
        order = np.argsort(-row, kind="stable")[:k]
        return [(self.labels[head][i], float(row[i])) for i in order]

    def present(self, head: str = "event", *, threshold: float = 0.5, index: int = 0) -> list[str]:
        """Labels of clip `index` whose probability reaches `threshold`, best first."""
        row = self.probabilities[_check_head(head)][index]
        order = np.argsort(-row, kind="stable")
        return [self.labels[head][i] for i in order if row[i] >= threshold]

    def to_dict(self, index: int = 0) -> dict[str, dict[str, float]]:
        """head -> {label: probability} for clip `index` (JSON-ready)."""
        return {head: {name: float(p) for name, p in zip(names, self.probabilities[head][index],
                                                          strict=True)}
                for head, names in self.labels.items()}


def default_tagger_dir() -> Path:
    """The tagger folder shipped in the package (`unisono/assets/tagger`)."""
    return Path(str(importlib.resources.files("unisono") / "assets" / "tagger"))


class Tagger(nn.Module):
    """The tagger network plus its numpy API (`predict`, `embed`) and persistence."""

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        for head in HEADS:
            if not config.labels(head):
                raise UnisonoError(f"tagger config has no labels for the {head!r} head")
        self.config = config
        self.backbone = ConvBackbone(config.mel, config.backbone)
        self.embedding = nn.Sequential(nn.Dropout(config.backbone.dropout),
                                       nn.Linear(config.backbone.width, config.hidden), nn.ReLU())
        self.heads = nn.ModuleDict({head: nn.Linear(config.hidden, len(config.labels(head)))
                                    for head in HEADS})
        self.probe = None if config.probe is None else probe_network(config.probe, len(config.events))
        if config.probe is not None:
            if not 0.0 <= config.probe.weight <= 1.0:
                raise UnisonoError(f"tagger probe weight must lie in [0, 1]; got {config.probe.weight}")
            self.register_buffer("probe_mean", torch.zeros(config.probe.features))
            self.register_buffer("probe_std", torch.ones(config.probe.features))
        # the aiSFX embedder the probe reads (None: a fresh one); see share_probe_embedder
        self.probe_embedder = None

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """(B, M, T) log-mel, (B,) lengths -> head logits {head: (B, K)} and embeddings (B, D)."""
        features, feature_lengths = self.backbone(mel, lengths)
        embedding = self.embedding(masked_pool(features, feature_lengths))
        return {head: layer(embedding) for head, layer in self.heads.items()}, embedding

    # ----- numpy API ------------------------------------------------------------------------
    def _windows(self, mels: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        size = window_frames(self.config.mel, self.config.window_seconds)
        hop = window_frames(self.config.mel, self.config.window_hop_seconds)
        windows, owners = [], []
        for clip, mel in enumerate(mels):
            pieces = split_windows(mel, size, hop)
            windows.extend(pieces)
            owners.extend([clip] * len(pieces))
        return windows, np.asarray(owners)

    @torch.no_grad()
    def _run_windows(self, windows: list[np.ndarray], batch_size: int
                     ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        self.eval()
        logits: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
        embeddings = []
        pad = self.config.mel.floor_value
        for start in range(0, len(windows), batch_size):
            mel, lengths = pad_batch(windows[start : start + batch_size], pad)
            out, embedding = self(mel, lengths)
            for head in HEADS:
                logits[head].append(out[head].numpy())
            embeddings.append(embedding.numpy())
        return {h: np.concatenate(v) for h, v in logits.items()}, np.concatenate(embeddings)

    def predict(self, audio: np.ndarray | Sequence[np.ndarray], sample_rate: int, *,
                batch_size: int = 32) -> TagPrediction:
        """Tag clips of any length and rate.

        Args:
            audio: one clip (S,), a batch (B, S), or a list of clips of different lengths.
            sample_rate: their rate (resampled to the model's).
            batch_size: windows run per forward pass.

        Returns:
            A TagPrediction with B rows.

        Raises:
            UnisonoError: empty, non-finite or multi-channel audio.
        """
        clips = clips_of_inputs(audio)
        mels = [compute_log_mel(clip, sample_rate, self.config.mel) for clip in clips]
        features = None if self.probe is None else self.probe_features(clips, sample_rate)
        return self.predict_mels(mels, batch_size=batch_size, probe_features=features)

    def probe_features(self, audio: np.ndarray | Sequence[np.ndarray], sample_rate: int) -> np.ndarray:
        """(B, F) probe inputs of clips (as `predict` takes them): see `probe_features`."""
        if self.config.probe is None:
            raise UnisonoError("this tagger has no probe (its config's `probe` is null)")
        return probe_features(clips_of_inputs(audio), sample_rate, self.config.probe.sample_rate,
                              embedder=self.probe_embedder)

    def share_probe_embedder(self, embedder) -> bool:
        """Let the probe read its aiSFX frames from `embedder` (e.g. the memoising embedder the
        FD metric also reads, so a clip is embedded once). An embedder other than aiSFX is not
        taken: the probe was fitted on aiSFX features. Returns whether it was taken."""
        if self.probe is None or getattr(embedder, "name", None) != "aisfx":
            return False
        self.probe_embedder = embedder
        return True

    def without_probe(self) -> Tagger:
        """The CNN alone: a copy with the probe dropped (what a probe is fitted to and fused with)."""
        plain = Tagger(replace(self.config, probe=None))
        plain.load_state_dict({k: v for k, v in self.state_dict().items() if not k.startswith("probe")})
        return plain.eval()

    @torch.no_grad()
    def _probe_logits(self, features: np.ndarray) -> np.ndarray:
        inputs = (torch.as_tensor(features, dtype=torch.float32) - self.probe_mean) / self.probe_std
        return self.probe(inputs).double().numpy()

    def predict_mels(self, mels: Sequence[np.ndarray], *, batch_size: int = 32,
                     probe_features: np.ndarray | None = None) -> TagPrediction:
        """`predict` from log-mels (M, T_i) made with `compute_log_mel(..., config.mel)`; a tagger
        with a probe also needs its (B, F) `probe_features` of the same clips."""
        if self.probe is not None and probe_features is None:
            raise UnisonoError("this tagger fuses an aiSFX probe into its event head: pass "
                               "probe_features=tagger.probe_features(audio, rate), or use predict()")
        windows, owners = self._windows(mels)
        logits, _ = self._run_windows(windows, batch_size)
        weights = np.array([w.shape[1] for w in windows], dtype=np.float64)
        clips = int(owners.max()) + 1
        probabilities = {}
        for head, activation in HEADS.items():
            if activation == "sigmoid":
                window_probs = 1.0 / (1.0 + np.exp(-logits[head].astype(np.float64)))
                pooled = np.stack([window_probs[owners == c].max(axis=0) for c in range(clips)])
            else:
                window_probs = _softmax(logits[head].astype(np.float64))
                pooled = np.stack([np.average(window_probs[owners == c], axis=0,
                                              weights=weights[owners == c]) for c in range(clips)])
            probabilities[head] = pooled.astype(np.float32)
        if self.probe is not None:
            probabilities["event"] = fuse_event_probabilities(
                probabilities["event"], self._probe_logits(probe_features), self.config.probe.weight)
        labels = {head: tuple(self.config.labels(head)) for head in HEADS}
        return TagPrediction(labels=labels, probabilities=probabilities)

    def embed(self, audio: np.ndarray | Sequence[np.ndarray], sample_rate: int, *,
              batch_size: int = 32) -> np.ndarray:
        """(B, D) clip embeddings (the layer before the heads, window-length-weighted mean), e.g.
        for Frechet distances."""
        windows, owners = self._windows(mels_of_inputs(audio, sample_rate, self.config.mel))
        _, embeddings = self._run_windows(windows, batch_size)
        weights = np.array([w.shape[1] for w in windows], dtype=np.float64)
        return np.stack([np.average(embeddings[owners == c], axis=0, weights=weights[owners == c])
                         for c in range(int(owners.max()) + 1)]).astype(np.float32)

    # ----- persistence ----------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path, *, half: bool = False,
                        ema_state: dict[str, torch.Tensor] | None = None) -> Path:
        """Write config.json + model.safetensors (+ ema.safetensors); float16 when `half`."""
        return save_model_folder(directory, config=self.config, state=self.state_dict(),
                                 ema_state=ema_state, half=half)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, *, weights: str = "model") -> Tagger:
        """Load a folder written by `save_pretrained` (None: the shipped tagger).

        Args:
            path: the folder.
            weights: "model" or "ema" (a training checkpoint's averaged weights).

        Raises:
            UnisonoError: missing or incomplete folder, or weights that do not fit the config.
        """
        folder = default_tagger_dir() if path is None else Path(path)
        state = load_folder(folder, weights=weights, what="tagger",
                            hint="train one with `unisono train-tagger configs/eval/tagger.yaml`")
        model = cls(config_from_dict(TaggerConfig, state[0]))
        load_state(model, state[1], folder)
        return model.eval()


def probe_features(clips: Sequence[np.ndarray], sample_rate: int, probe_rate: int, *,
                   embedder=None) -> np.ndarray:
    """(B, 1024) probe inputs: each clip brought to `probe_rate`, embedded by aiSFX (`embedder`,
    default a fresh `AisfxEmbedder`), its frames pooled to [mean, max]."""
    from unisono.audio import resample
    from unisono.metrics.embedding import AisfxEmbedder

    embedder = embedder or AisfxEmbedder()
    rows = []
    for clip in clips:
        frames = embedder(resample(np.asarray(clip, np.float32), sample_rate, probe_rate), probe_rate)
        rows.append(np.concatenate([frames.mean(axis=0), frames.max(axis=0)]))
    return np.stack(rows).astype(np.float32)


def fuse_event_probabilities(cnn: np.ndarray, probe_logits: np.ndarray, weight: float) -> np.ndarray:
    """sigmoid((1 - weight) logit(cnn) + weight probe_logits), float32 (B, K)."""
    cnn = np.clip(np.asarray(cnn, np.float64), 1e-6, 1.0 - 1e-6)
    fused = (1.0 - weight) * np.log(cnn / (1.0 - cnn)) + weight * np.asarray(probe_logits, np.float64)
    return (1.0 / (1.0 + np.exp(-fused))).astype(np.float32)


def probe_network(config: ProbeConfig, labels: int) -> nn.Module:
    """The probe: features -> `labels` logits, linear (`hidden` 0) or an MLP with dropout."""
    if config.hidden <= 0:
        return nn.Linear(config.features, labels)
    return nn.Sequential(nn.Dropout(0.2), nn.Linear(config.features, config.hidden), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(config.hidden, labels))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
