"""The contrastive audio-text embedder of the evaluation suite (CLAP-style score and retrieval).

Audio tower: the reference CNN (`unisono.models.refnet.ConvBackbone`) on 16 kHz log-mel, a masked
temporal convolution (so order within a clip can matter), mean + max pooling and an MLP to the
joint space. The CNN's frames are 16x coarser than the mel's, too coarse for tempo and counts, so
the MLP also reads `rhythm_features`: the autocorrelation of the clip's spectral flux at the mel
frame rate (beat period, repetition rate). Text tower: the frozen MiniLM (`unisono.models.text_encoder.TextEncoder`), its last
or penultimate layer mean-pooled over the prompt's tokens, and a trainable MLP. Both embeddings
are L2-normalised; training uses the symmetric InfoNCE loss with a learned temperature
(`logit_scale`, CLIP). The frozen text encoder is not part of the state dict: only the towers'
trainable weights are saved.

Duration: with `duration_frequencies`, each embedding ends in a small duration part, the Fourier
features [cos(w d), sin(w d)] of a log duration d: the clip's own log(seconds) on the audio side,
a log duration predicted from the prompt (a small head, trained by regression) on the text side.
Embeddings are [sqrt(1 - m) * content, sqrt(m) * duration] with a learned m, so their dot product
is (1 - m) * content similarity + m * mean_w cos(w (d_audio - d_text)): a kernel that peaks when
the clip lasts as long as the prompt suggests (a spoken sentence's length, a timed caption's end).
`with_duration=False` in the numpy API compares content only.

Clips of any length are embedded window by window; window embeddings are averaged (weighted by
length) and renormalised.

Shapes: B clips or prompts, M mel bins, T frames, D audio feature width, W text width, E content
width, K duration frequencies (embeddings are E + 2K wide).
"""

from __future__ import annotations

import importlib.resources
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from unisono.config import config_from_dict
from unisono.errors import UnisonoError
from unisono.models.pretrained import save_model_folder
from unisono.models.refnet import (
    BackboneConfig,
    ConvBackbone,
    MelConfig,
    frame_mask,
    load_folder,
    load_state,
    masked_pool,
    mels_of_inputs,
    pad_batch,
    split_windows,
    window_frames,
)


@dataclass
class ContrastiveConfig:
    """A contrastive embedder.

    Attributes:
        mel: log-mel front end.
        backbone: the audio CNN.
        temporal_layers: masked 1-D convolutions (kernel 3, residual) over the CNN's frames.
        rhythm_lags: lags (mel frames) of the spectral-flux autocorrelation fed to the audio
            projection; 0 for none.
        length_features: append log(1 + seconds) to the pooled audio, and log(tokens) and
            log(1 + words in quotes) to the pooled text, before the projections: a quoted sentence's
            word count and its spoken (or sung) duration go together.
        embed_dim: E, width of the joint space.
        audio_hidden: hidden width of the audio projection MLP.
        text_encoder: folder of a Hugging Face encoder; null for the shipped all-MiniLM-L6-v2.
        text_layer: which hidden state is pooled: "last" or "penultimate".
        text_width: W, the text encoder's hidden width.
        text_hidden: hidden width of the text projection MLP.
        init_temperature: starting softmax temperature of InfoNCE.
        max_logit_scale: cap of 1 / temperature.
        duration_frequencies: angular frequencies (per unit of log seconds) of the duration part;
            empty for none.
        init_duration_mix: starting logit of the duration share m.
        window_seconds: longest stretch the audio tower sees at once.
        window_hop_seconds: hop between windows of longer clips.
    """

    mel: MelConfig = field(default_factory=MelConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    temporal_layers: int = 1
    rhythm_lags: int = 100
    length_features: bool = True
    embed_dim: int = 256
    audio_hidden: int = 512
    text_encoder: str | None = None
    text_layer: Literal["last", "penultimate"] = "last"
    text_width: int = 384
    text_hidden: int = 512
    init_temperature: float = 0.07
    max_logit_scale: float = 100.0
    duration_frequencies: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0])
    init_duration_mix: float = -2.0
    window_seconds: float = 10.0
    window_hop_seconds: float = 5.0


def default_clap_dir() -> Path:
    """The embedder folder shipped in the package (`unisono/assets/clap`)."""
    return Path(str(importlib.resources.files("unisono") / "assets" / "clap"))


def pool_text_states(hidden_states: Sequence[torch.Tensor], mask: torch.Tensor, layer: str) -> torch.Tensor:
    """Mean over real tokens of the last or penultimate layer: L + 1 states (B, N, W) -> (B, W)."""
    if layer not in ("last", "penultimate"):
        raise UnisonoError(f"text_layer must be 'last' or 'penultimate'; got {layer!r}")
    states = hidden_states[-1] if layer == "last" else hidden_states[-2]
    weights = mask.to(states.dtype)[..., None]
    return (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def prompt_length_features(prompt: str, tokens: int) -> torch.Tensor:
    """(2,) [log(tokens), log(1 + words inside double quotes)] of a prompt."""
    quoted = " ".join(re.findall(r'["\u201c]([^"\u201d]*)["\u201d]', prompt))
    return torch.tensor([math.log(max(tokens, 1)), math.log1p(len(re.findall(r"[\w']+", quoted)))])


def rhythm_features(mel: torch.Tensor, lengths: torch.Tensor, lags: int) -> torch.Tensor:
    """(B, M, T) log-mel, (B,) lengths -> (B, lags) autocorrelation of the spectral flux at lags
    1..lags, normalised by lag 0 (zero for a flat clip). Padding does not enter."""
    flux = F.relu(mel[:, :, 1:] - mel[:, :, :-1]).sum(dim=1)  # (B, T - 1)
    valid = frame_mask((lengths - 1).clamp_min(0), flux.shape[1]).to(flux.dtype)
    count = valid.sum(dim=1, keepdim=True).clamp_min(1.0)
    flux = (flux - (flux * valid).sum(dim=1, keepdim=True) / count) * valid
    size = flux.shape[1] + lags + 1
    spectrum = torch.fft.rfft(flux, n=size)
    correlation = torch.fft.irfft(spectrum.real.square() + spectrum.imag.square(), n=size)
    return correlation[:, 1 : lags + 1] / correlation[:, :1].clamp_min(1e-6)


class _TemporalBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # ReLU keeps features non-negative, which `masked_pool`'s plain max relies on
        return F.relu(x + self.conv(x)) * mask


class ContrastiveEmbedder(nn.Module):
    """Audio tower + text projection + temperature, with the numpy API and persistence."""

    def __init__(self, config: ContrastiveConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = ConvBackbone(config.mel, config.backbone)
        width = config.backbone.width
        self.temporal = nn.ModuleList([_TemporalBlock(width) for _ in range(config.temporal_layers)])
        self.audio_projection = nn.Sequential(
            nn.Dropout(config.backbone.dropout),
            nn.Linear(width + int(config.length_features) + config.rhythm_lags, config.audio_hidden),
            nn.GELU(),
            nn.Linear(config.audio_hidden, config.embed_dim))
        self.text_projection = nn.Sequential(
            nn.Linear(config.text_width + 2 * int(config.length_features), config.text_hidden),
            nn.GELU(),
            nn.Linear(config.text_hidden, config.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)))
        self.register_buffer("duration_frequencies",
                             torch.tensor(config.duration_frequencies, dtype=torch.float32))
        if config.duration_frequencies:
            self.duration_head = nn.Sequential(
                nn.Linear(config.text_width + 2 * int(config.length_features), 128), nn.GELU(),
                nn.Linear(128, 1))
            self.duration_mix = nn.Parameter(torch.tensor(float(config.init_duration_mix)))
        self._text_encoder = None  # loaded on first use; frozen and never in the state dict

    # ----- towers (tensors) -----------------------------------------------------------------
    def audio_embedding(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, M, T) log-mel, (B,) lengths -> (B, E) unit-norm audio embeddings."""
        features, feature_lengths = self.backbone(mel, lengths)
        mask = frame_mask(feature_lengths, features.shape[-1])[:, None, :].to(features.dtype)
        for block in self.temporal:
            features = block(features, mask)
        pooled = masked_pool(features, feature_lengths)
        if self.config.rhythm_lags:
            pooled = torch.cat([pooled, rhythm_features(mel, lengths, self.config.rhythm_lags)], dim=1)
        seconds = lengths.to(pooled.dtype) / self.config.mel.frames_per_second
        if self.config.length_features:
            pooled = torch.cat([pooled, torch.log1p(seconds)[:, None]], dim=1)
        content = F.normalize(self.audio_projection(pooled), dim=-1)
        return self._join(content, torch.log(seconds.clamp_min(1e-3)))

    def text_log_duration(self, text_features: torch.Tensor) -> torch.Tensor:
        """(B, W) pooled text states -> (B,) log seconds the prompt suggests."""
        return self.duration_head(text_features)[:, 0]

    def text_embedding(self, text_features: torch.Tensor) -> torch.Tensor:
        """(B, W) pooled text-encoder states (W + 1 with `length_features`: see `text_features`)
        -> (B, E + 2K) unit-norm text embeddings."""
        content = F.normalize(self.text_projection(text_features), dim=-1)
        if not self.config.duration_frequencies:
            return content
        return self._join(content, self.text_log_duration(text_features))

    def _join(self, content: torch.Tensor, log_seconds: torch.Tensor) -> torch.Tensor:
        """[sqrt(1 - m) content, sqrt(m) duration features], unit norm (module docstring)."""
        if not self.config.duration_frequencies:
            return content
        phase = log_seconds[:, None] * self.duration_frequencies[None, :]
        duration = torch.cat([phase.cos(), phase.sin()], dim=1) / math.sqrt(phase.shape[1])
        share = torch.sigmoid(self.duration_mix)
        return torch.cat([(1 - share).sqrt() * content, share.sqrt() * duration], dim=1)

    def content_part(self, embeddings: np.ndarray) -> np.ndarray:
        """(B, E + 2K) embeddings -> their (B, E) content parts, renormalised."""
        content = np.asarray(embeddings)[:, : self.config.embed_dim]
        return content / np.linalg.norm(content, axis=1, keepdims=True).clip(1e-12)

    def logits(self, audio: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """(B, E) x (B, E) -> (B, B) audio-by-text logits scaled by the learned temperature."""
        scale = self.logit_scale.clamp(max=math.log(self.config.max_logit_scale)).exp()
        return scale * audio @ text.T

    # ----- numpy API ------------------------------------------------------------------------
    @property
    def text_encoder(self):
        """The frozen `TextEncoder` (loaded from `config.text_encoder` on first use)."""
        if self._text_encoder is None:
            from unisono.models.text_encoder import TextEncoder

            self._text_encoder = TextEncoder.from_pretrained(self.config.text_encoder)
        return self._text_encoder

    @torch.no_grad()
    def text_features(self, prompts: str | Sequence[str]) -> torch.Tensor:
        """(B, W) pooled frozen-encoder states of prompts (what the text projection reads), with
        `prompt_length_features` appended (W + 2 columns) when `config.length_features`."""
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
            raise UnisonoError("prompts must be a non-empty list of non-empty strings")
        pooled = []
        for prompt in prompts:  # one at a time: an embedding never depends on its batch-mates
            encoding = self.text_encoder.encode(prompt)
            states = pool_text_states(encoding.hidden_states, encoding.mask, self.config.text_layer)
            if self.config.length_features:
                tokens = int(encoding.mask.sum())
                states = torch.cat([states, prompt_length_features(prompt, tokens)[None]], dim=1)
            pooled.append(states)
        return torch.cat(pooled).float()

    @torch.no_grad()
    def embed_text(self, prompts: str | Sequence[str], *, with_duration: bool = True) -> np.ndarray:
        """(B, E + 2K) unit-norm embeddings of prompts ((B, E) content only without duration)."""
        self.eval()
        embeddings = self.text_embedding(self.text_features(prompts)).numpy()
        return embeddings if with_duration else self.content_part(embeddings)

    @torch.no_grad()
    def embed_mels(self, mels: Sequence[np.ndarray], *, batch_size: int = 32,
                   with_duration: bool = True) -> np.ndarray:
        """(B, E + 2K) unit-norm embeddings of log-mels (M, T_i) made with the config's mel
        settings ((B, E) content only without duration)."""
        self.eval()
        size = window_frames(self.config.mel, self.config.window_seconds)
        hop = window_frames(self.config.mel, self.config.window_hop_seconds)
        windows, owners = [], []
        for clip, mel in enumerate(mels):
            pieces = split_windows(mel, size, hop)
            windows.extend(pieces)
            owners.extend([clip] * len(pieces))
        owners_array = np.asarray(owners)
        outputs = []
        for start in range(0, len(windows), batch_size):
            mel, lengths = pad_batch(windows[start : start + batch_size], self.config.mel.floor_value)
            outputs.append(self.audio_embedding(mel, lengths).numpy())
        embeddings = np.concatenate(outputs).astype(np.float64)
        weights = np.array([w.shape[1] for w in windows], dtype=np.float64)
        pooled = np.stack([np.average(embeddings[owners_array == c], axis=0,
                                      weights=weights[owners_array == c])
                           for c in range(len(mels))])
        pooled = (pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)
        return pooled if with_duration else self.content_part(pooled)

    def embed_audio(self, audio: np.ndarray | Sequence[np.ndarray], sample_rate: int, *,
                    batch_size: int = 32, with_duration: bool = True) -> np.ndarray:
        """(B, E + 2K) unit-norm embeddings of clips of any length and rate.

        Args:
            audio: one clip (S,), a batch (B, S) or a list of clips.
            sample_rate: their rate (resampled to the model's).
            batch_size: windows per forward pass.
            with_duration: False returns the (B, E) content parts only.

        Raises:
            UnisonoError: empty, non-finite or multi-channel audio.
        """
        return self.embed_mels(mels_of_inputs(audio, sample_rate, self.config.mel),
                               batch_size=batch_size, with_duration=with_duration)

    def score(self, audio: np.ndarray | Sequence[np.ndarray], text: str | Sequence[str],
              sample_rate: int, *, with_duration: bool = True) -> np.ndarray:
        """(B,) cosine similarity of each clip with its prompt (one prompt: with every clip).

        The CLAP score of a set of generations is the mean of these; `with_duration=False`
        ignores whether a clip lasts as long as its prompt suggests.
        """
        audio_embeddings = self.embed_audio(audio, sample_rate, with_duration=with_duration)
        text_embeddings = self.embed_text(text, with_duration=with_duration)
        if text_embeddings.shape[0] not in (1, audio_embeddings.shape[0]):
            raise UnisonoError(f"{audio_embeddings.shape[0]} clips but {text_embeddings.shape[0]} "
                               "prompts: give one prompt, or one per clip")
        return (audio_embeddings * text_embeddings).sum(axis=1)

    def retrieval_similarity(self, audio: Sequence[np.ndarray], captions: Sequence[str],
                             sample_rate: int, *, words: bool = False,
                             transcripts: Sequence[str] | None = None,
                             word_weight: float | None = None) -> np.ndarray:
        """(Q, N) similarity of every caption with every clip, for text-to-audio retrieval.

        Args:
            audio: the N clips searched.
            captions: the Q queries.
            sample_rate: the clips' rate.
            words: add the word channel (`unisono.models.words`): what a caption quotes against
                the clip's Whisper-tiny transcript.
            transcripts: the clips' transcripts when already known (skips Whisper); implies words.
            word_weight: the word term's weight (default `unisono.models.words.WORD_WEIGHT`).
        """
        from unisono.models import words as word_channel

        audio_embeddings = self.embed_audio(list(audio), sample_rate)
        text_embeddings = self.embed_text(list(captions))
        if not words and transcripts is None:
            return text_embeddings.astype(np.float64) @ audio_embeddings.T.astype(np.float64)
        if transcripts is None:
            transcripts = word_channel.transcribe_clips(list(audio), sample_rate)
        weight = word_channel.WORD_WEIGHT if word_weight is None else word_weight
        return word_channel.retrieval_similarity(text_embeddings, audio_embeddings, list(captions),
                                                 list(transcripts), weight=weight)

    # ----- persistence ----------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path, *, half: bool = False,
                        ema_state: dict[str, torch.Tensor] | None = None) -> Path:
        """Write config.json + model.safetensors (+ ema.safetensors); float16 when `half`."""
        return save_model_folder(directory, config=self.config, state=self.state_dict(),
                                 ema_state=ema_state, half=half)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, *, weights: str = "model"
                        ) -> ContrastiveEmbedder:
        """Load a folder written by `save_pretrained` (None: the shipped embedder).

        Raises:
            UnisonoError: missing or incomplete folder, or weights that do not fit the config.
        """
        folder = default_clap_dir() if path is None else Path(path)
        data, state = load_folder(folder, weights=weights, what="contrastive embedder",
                                  hint="train one with `unisono train-clap configs/eval/clap.yaml`")
        model = cls(config_from_dict(ContrastiveConfig, data))
        load_state(model, state, folder)
        return model.eval()
