"""`Codec`: encoder + KL bottleneck + decoder, with whole-clip and chunked encode / decode and
inference-ready save / load (config.json + model.safetensors [+ ema.safetensors]).

Shapes: B batch, S samples, C latent channels, T = ceil(S / hop) latent frames. Latents returned by
`encode` are scaled by `config.latent_scale` (about unit variance); `decode` undoes the scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from unisono.audio import resample, validate_audio
from unisono.errors import UnisonoError
from unisono.models.codec.bottleneck import DiagonalGaussianBottleneck
from unisono.models.codec.config import CodecConfig
from unisono.models.codec.frame import FrameDecoder, FrameEncoder
from unisono.models.codec.waveform import WaveformDecoder, WaveformEncoder
from unisono.models.pretrained import (  # noqa: F401  (file names re-exported)
    CONFIG_FILE,
    EMA_FILE,
    MODEL_FILE,
    load_model_weights,
    read_model_config,
    save_model_folder,
)


@dataclass
class CodecOutput:
    """A training forward pass: reconstruction (B, S), unscaled latent (B, C, T) and the KL."""

    audio: torch.Tensor
    latent: torch.Tensor
    kl: torch.Tensor


class Codec(nn.Module):
    """The Unisono audio codec; the architecture comes from `config.architecture`."""

    def __init__(self, config: CodecConfig):
        super().__init__()
        self.config = config
        if config.architecture == "frame":
            self.encoder: nn.Module = FrameEncoder(config)
            self.decoder: nn.Module = FrameDecoder(config)
        else:
            self.encoder = WaveformEncoder(config)
            self.decoder = WaveformDecoder(config)
        self.bottleneck = DiagonalGaussianBottleneck()

    # ----- sizes -----------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def hop(self) -> int:
        return self.config.hop

    @property
    def device(self) -> torch.device:
        """Where the codec's weights (and its numpy API's computation) live."""
        return next(self.parameters()).device

    @property
    def context_frames(self) -> int:
        """Latent frames of context each side of a chunk so chunked output matches whole-clip."""
        if self.config.architecture == "frame":
            frame = self.config.frame
            stft_reach = -(-frame.n_fft // self.hop)
            depth = max(frame.encoder_blocks, frame.decoder_blocks + 1)
            fine_reach = 0
            if frame.decoder_upsample > 1:  # fine blocks and their input conv, in latent frames
                fine_steps = frame.upsample_blocks * (frame.kernel_size // 2) + 1
                fine_reach = -(-fine_steps // frame.decoder_upsample)
            return stft_reach + depth * (frame.kernel_size // 2) + fine_reach + 2
        return 16

    def _pad_to_hop(self, audio: torch.Tensor) -> torch.Tensor:
        frames = self.config.latent_frames(audio.shape[-1])
        return F.pad(audio, (0, frames * self.hop - audio.shape[-1]))

    # ----- tensor API (differentiable) -----------------------------------------------------
    def forward(
        self, audio: torch.Tensor, *, sample: bool = True, generator: torch.Generator | None = None
    ) -> CodecOutput:
        """Reconstruct (B, S) audio for training; `sample` draws from the posterior."""
        num_samples = audio.shape[-1]
        posterior = self.bottleneck(
            self.encoder(self._pad_to_hop(audio)), sample=sample, generator=generator
        )
        recon = self.decoder(posterior.latent)[..., :num_samples]
        return CodecOutput(audio=recon, latent=posterior.latent, kl=posterior.kl)

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) audio at `sample_rate` -> (B, C, ceil(S / hop)) scaled posterior mean."""
        posterior = self.bottleneck(self.encoder(self._pad_to_hop(audio)), sample=False)
        return posterior.mean * self.config.latent_scale

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, C, T) scaled latent -> (B, T * hop) audio."""
        if latent.ndim != 3 or latent.shape[1] != self.config.latent_channels:
            raise UnisonoError(
                f"latent must be (batch, {self.config.latent_channels}, frames); got "
                f"{tuple(latent.shape)}: was it made by a different codec?"
            )
        return self.decoder(latent / self.config.latent_scale)

    # ----- numpy API (any length, chunked, no grad) ----------------------------------------
    def _prepare(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise UnisonoError(f"codec input must be mono (samples,); got shape {audio.shape}")
        validate_audio(audio, sample_rate, name="codec input")
        return resample(audio, sample_rate, self.sample_rate)

    @torch.no_grad()
    def encode_audio(
        self,
        audio: np.ndarray,
        sample_rate: int,
        *,
        chunk_frames: int = 1500,
        context_frames: int | None = None,
    ) -> torch.Tensor:
        """Encode mono audio of any length in overlapping chunks (bounded memory).

        Args:
            audio: (S,) float audio; resampled from `sample_rate` to the codec rate.
            sample_rate: rate of `audio`.
            chunk_frames: latent frames computed per chunk (plus context each side).
            context_frames: frames of context each side; default `context_frames`.

        Returns:
            (C, T) latent on the CPU with T = ceil(S' / hop), S' the length at the codec rate
            (computed on the codec's device).

        Raises:
            UnisonoError: empty, non-finite or multi-channel audio.
        """
        samples = torch.from_numpy(self._prepare(audio, sample_rate)).to(self.device)
        context = self.context_frames if context_frames is None else context_frames
        total = self.config.latent_frames(samples.shape[0])
        samples = F.pad(samples, (0, total * self.hop - samples.shape[0]))
        pieces = []
        for start in range(0, total, chunk_frames):
            stop = min(start + chunk_frames, total)
            lo, hi = max(start - context, 0), min(stop + context, total)
            latent = self.encode(samples[None, lo * self.hop : hi * self.hop])[0]
            pieces.append(latent[:, start - lo : stop - lo])
        return torch.cat(pieces, dim=1).cpu()

    @torch.no_grad()
    def decode_latent(
        self,
        latent: torch.Tensor | np.ndarray,
        *,
        num_samples: int | None = None,
        chunk_frames: int = 1500,
        context_frames: int | None = None,
        crossfade_frames: int = 2,
    ) -> np.ndarray:
        """Decode a (C, T) latent in overlapping chunks joined by linear cross-fades.

        Args:
            latent: (C, T) scaled latent from `encode_audio`.
            num_samples: trim the output to this length (default T * hop).
            chunk_frames: latent frames per chunk.
            context_frames: frames decoded each side of a chunk and then faded out or discarded.
            crossfade_frames: half-width of each cross-fade in frames (must be <= context).

        Returns:
            (S,) float32 audio at the codec rate.
        """
        latent = torch.as_tensor(
            np.asarray(latent) if isinstance(latent, np.ndarray) else latent, dtype=torch.float32
        )
        if latent.ndim != 2 or latent.shape[1] == 0:
            raise UnisonoError(
                f"latent must be (channels, frames) with frames > 0; got {tuple(latent.shape)}"
            )
        if not torch.isfinite(latent).all():
            raise UnisonoError("latent contains NaN or Inf: re-encode the audio")
        latent = latent.to(self.device)
        context = self.context_frames if context_frames is None else context_frames
        total = latent.shape[1]
        if self.config.architecture == "frame" and self.config.frame.phase == "cumulative":
            audio = self._decode_cumulative(latent, chunk_frames=chunk_frames,
                                            context=context).cpu().numpy()
            return audio[: num_samples if num_samples is not None else audio.shape[0]]
        fade = min(crossfade_frames, context) * self.hop
        output = torch.zeros(total * self.hop)
        weight = torch.zeros(total * self.hop)
        for start in range(0, total, chunk_frames):
            stop = min(start + chunk_frames, total)
            lo, hi = max(start - context, 0), min(stop + context, total)
            audio = self.decode(latent[None, :, lo:hi])[0].cpu()
            positions = torch.arange(lo * self.hop, hi * self.hop, dtype=torch.float32)
            ramp = torch.ones_like(positions)
            if fade > 0 and start > 0:
                ramp = ramp * ((positions - (start * self.hop - fade)) / (2 * fade)).clamp(0, 1)
            if fade > 0 and stop < total:
                ramp = ramp * (((stop * self.hop + fade) - positions) / (2 * fade)).clamp(0, 1)
            if fade == 0:
                inside = (positions >= start * self.hop) & (positions < stop * self.hop)
                ramp = inside.float()
            output[lo * self.hop : hi * self.hop] += ramp * audio
            weight[lo * self.hop : hi * self.hop] += ramp
        audio = (output / weight.clamp_min(1e-8)).numpy()
        return audio[: num_samples if num_samples is not None else audio.shape[0]]

    def _decode_cumulative(self, latent: torch.Tensor, *, chunk_frames: int, context: int) -> torch.Tensor:
        """Chunked decoding for integrated phase: the network runs per chunk (it is local), the
        phase is integrated over the whole clip, so chunked output equals whole-clip output."""
        total = latent.shape[1]
        pieces = []
        for start in range(0, total, chunk_frames):
            stop = min(start + chunk_frames, total)
            lo, hi = max(start - context, 0), min(stop + context, total)
            params = self.decoder.frame_params(latent[None, :, lo:hi] / self.config.latent_scale)
            pieces.append([p[..., start - lo : stop - lo] for p in params])
        params = [torch.cat([piece[i] for piece in pieces], dim=-1) for i in range(3)]
        return self.decoder.istft(self.decoder.spectrum_from_params(*params))[0]

    def roundtrip(self, audio: np.ndarray, sample_rate: int, **chunking: int) -> np.ndarray:
        """Encode and decode; returns audio at `sample_rate` with exactly the input length."""
        latent = self.encode_audio(audio, sample_rate, **chunking)
        resampled_length = -(-len(audio) * self.sample_rate // sample_rate)
        decoded = self.decode_latent(latent, num_samples=resampled_length)
        out = resample(decoded, self.sample_rate, sample_rate)
        out = np.pad(out, (0, max(len(audio) - len(out), 0)))[: len(audio)]
        return out.astype(np.float32)

    # ----- persistence ----------------------------------------------------------------------
    def save_pretrained(
        self, directory: str | Path, *, ema_state: dict[str, torch.Tensor] | None = None
    ) -> Path:
        """Write config.json + model.safetensors (+ ema.safetensors); no pickles."""
        return save_model_folder(
            directory, config=self.config, state=self.state_dict(), ema_state=ema_state
        )

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, weights: str = "auto") -> Codec:
        """Load a folder written by `save_pretrained`.

        Args:
            directory: the folder.
            weights: "ema", "model" or "auto" (EMA weights when present).

        Raises:
            UnisonoError: missing folder or files, or weights that do not fit the config.
        """
        model = cls(read_model_config(directory, CodecConfig, what="codec"))
        load_model_weights(model, directory, weights=weights, what="codec")
        return model.eval()
