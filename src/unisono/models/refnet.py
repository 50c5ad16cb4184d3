"""The audio network shared by the reference models: log-mel front end and a small 2-D CNN.

The tagger (`unisono.models.tagger`) and the audio tower of the contrastive embedder
(`unisono.models.clap`) both read 16 kHz log-mel spectrograms through `ConvBackbone`: a stride-2
stem and stages of two 3x3 convolutions with max pooling, returning one feature vector per
downsampled frame, and `masked_pool` (mean + max over the valid frames, as PANNs) for a clip vector.

Padding never changes a clip's output: padded frames are zero after every layer (zero is also
what a convolution's own zero padding sees past the end of an unpadded clip) and pooling is a max
over non-negative ReLU outputs, so a clip in a padded batch gives the same numbers as alone (up to float rounding).

Any length: `split_windows` cuts audio into fixed windows (the model's training length); callers
run the windows as one batch and pool per clip.

Shapes: B batch, S samples, M mel bins, T mel frames, D feature width, T' = ceil(T / 2^stages)
feature frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from unisono.audio import log_mel, resample
from unisono.errors import UnisonoError
from unisono.models.pretrained import read_config_data, weights_file


@dataclass
class MelConfig:
    """Log-mel features (log10 mel power, `unisono.audio.log_mel`).

    Attributes:
        sample_rate: audio is resampled to this rate first.
        n_fft: STFT size.
        hop: samples per mel frame (320 at 16 kHz = 50 frames/s, the codec's frame rate).
        n_mels: mel bins M.
        floor: power floor before the log.
    """

    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 320
    n_mels: int = 64
    floor: float = 1e-5

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop

    @property
    def floor_value(self) -> float:
        """The log-mel value of silence."""
        return math.log10(self.floor)


@dataclass
class BackboneConfig:
    """The CNN: a stride-2 stem of `channels[0]`, then one stage per further entry.

    Attributes:
        channels: stem width, then the width of each stage (two 3x3 convs + 2x2 max pool).
        dropout: dropout on the pooled clip vector.
    """

    channels: tuple[int, ...] = (24, 48, 96, 192)
    dropout: float = 0.2

    @property
    def width(self) -> int:
        """D, the width of the frame features."""
        return self.channels[-1]

    @property
    def time_reduction(self) -> int:
        """Mel frames per feature frame."""
        return 2 ** len(self.channels)


def compute_log_mel(audio: np.ndarray, sample_rate: int, config: MelConfig) -> np.ndarray:
    """(S,) audio at any rate -> (M, T) float32 log-mel at `config.sample_rate`.

    Raises:
        UnisonoError: audio that is not 1-D, empty or not finite.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise UnisonoError(f"audio must be mono (samples,); got shape {audio.shape}: downmix it first")
    if audio.size == 0:
        raise UnisonoError("audio is empty (0 samples): pass at least a few milliseconds of sound")
    if not np.all(np.isfinite(audio)):
        raise UnisonoError("audio contains NaN or Inf samples: check the model or file it came from")
    if sample_rate <= 0:
        raise UnisonoError(f"sample rate must be positive; got {sample_rate}")
    audio = resample(audio, sample_rate, config.sample_rate)
    mel = log_mel(audio, config.sample_rate, n_fft=config.n_fft, hop=config.hop,
                  n_mels=config.n_mels, floor=config.floor)
    return mel.numpy().astype(np.float32, copy=False)


def split_windows(mel: np.ndarray, window_frames: int, hop_frames: int) -> list[np.ndarray]:
    """Cut (M, T) into windows of at most `window_frames`, every `hop_frames`; the last window
    ends at T (so the end is covered), and a clip shorter than a window is one window."""
    total = mel.shape[1]
    if total <= window_frames:
        return [mel]
    starts = list(range(0, total - window_frames + 1, hop_frames))
    if starts[-1] + window_frames < total:
        starts.append(total - window_frames)
    return [mel[:, s : s + window_frames] for s in starts]


def pad_batch(mels: Sequence[np.ndarray], pad_value: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (M, T_i) arrays into (B, M, T_max) padded with `pad_value`, plus lengths (B,)."""
    lengths = torch.tensor([m.shape[1] for m in mels], dtype=torch.long)
    batch = torch.full((len(mels), mels[0].shape[0], int(lengths.max())), pad_value, dtype=torch.float32)
    for row, mel in enumerate(mels):
        batch[row, :, : mel.shape[1]] = torch.as_tensor(mel, dtype=torch.float32)
    return batch, lengths


def frame_mask(lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """(B,) valid lengths -> (B, frames) bool mask."""
    return torch.arange(frames, device=lengths.device)[None, :] < lengths[:, None]


def _halve(lengths: torch.Tensor) -> torch.Tensor:
    return torch.div(lengths + 1, 2, rounding_mode="floor")


class _ConvBNReLU(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # mask (B, 1, 1, T): keeps padded frames at exactly zero (see the module docstring)
        return F.relu(self.norm(self.conv(x))) * mask


class ConvBackbone(nn.Module):
    """Normalised log-mel (B, M, T) + lengths -> frame features (B, D, T') + feature lengths.

    The per-bin mel statistics used for normalisation are buffers (`mel_mean`, `mel_std`, (M,)),
    set from training data with `set_mel_statistics`, so they travel with the weights.
    """

    def __init__(self, mel: MelConfig, config: BackboneConfig) -> None:
        super().__init__()
        if len(config.channels) < 2:
            raise UnisonoError("backbone.channels needs a stem width and at least one stage width")
        self.mel_config = mel
        self.config = config
        self.register_buffer("mel_mean", torch.zeros(mel.n_mels))
        self.register_buffer("mel_std", torch.ones(mel.n_mels))
        self.stem = _ConvBNReLU(1, config.channels[0], stride=2)
        self.stages = nn.ModuleList()
        for c_in, c_out in zip(config.channels[:-1], config.channels[1:], strict=True):
            self.stages.append(nn.ModuleList([_ConvBNReLU(c_in, c_out), _ConvBNReLU(c_out, c_out)]))

    @torch.no_grad()
    def set_mel_statistics(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-bin mean and standard deviation (M,) of training log-mels."""
        self.mel_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.mel_std.copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(1e-3))

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, T) log-mel, (B,) lengths -> (B, D, T') features (zero past each length), (B,)."""
        if mel.ndim != 3 or mel.shape[1] != self.mel_config.n_mels:
            raise UnisonoError(
                f"expected log-mel (batch, {self.mel_config.n_mels}, frames); got {tuple(mel.shape)}"
            )
        x = (mel - self.mel_mean[:, None]) / self.mel_std[:, None]
        x = (x * frame_mask(lengths, x.shape[-1])[:, None, :])[:, None]  # (B, 1, M, T)
        lengths = _halve(lengths)
        x = self.stem(x, frame_mask(lengths, math.ceil(x.shape[-1] / 2))[:, None, None, :])
        for first, second in self.stages:
            mask = frame_mask(lengths, x.shape[-1])[:, None, None, :]
            x = second(first(x, mask), mask)
            x = F.max_pool2d(x, 2, ceil_mode=True)
            lengths = _halve(lengths)
        return x.amax(dim=2), lengths  # max over the remaining mel bins


def masked_pool(features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, D, T') frame features -> (B, D): mean + max over the valid frames (PANNs pooling).

    Features are non-negative and zero past each length, so the plain max is the masked max.
    """
    mask = frame_mask(lengths, features.shape[-1]).to(features.dtype)
    mean = (features * mask[:, None, :]).sum(-1) / lengths.clamp_min(1)[:, None].to(features.dtype)
    return mean + features.amax(dim=-1)


def window_frames(mel: MelConfig, seconds: float) -> int:
    """Mel frames in `seconds`."""
    return max(1, int(round(seconds * mel.frames_per_second)))


def clips_of_inputs(audio: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """The float32 clips (S_i,) of a (S,) array, a (B, S) array or a list of (S_i,) arrays."""
    if isinstance(audio, np.ndarray | torch.Tensor):
        array = np.asarray(audio, dtype=np.float32)
        if array.ndim == 2 and array.shape[1] <= 8 < array.shape[0]:
            raise UnisonoError(
                f"audio of shape {array.shape} looks like (samples, channels): downmix it to mono "
                "(unisono.audio.to_mono) or pass a batch as (batch, samples)"
            )
        clips = [array] if array.ndim == 1 else list(array) if array.ndim == 2 else None
        if clips is None:
            raise UnisonoError(
                f"audio must be (samples,), (batch, samples) or a list of clips; got {array.shape}"
            )
    else:
        clips = [np.asarray(a, dtype=np.float32) for a in audio]
    if not clips:
        raise UnisonoError("no audio given: pass at least one clip")
    return clips


def mels_of_inputs(
    audio: np.ndarray | Sequence[np.ndarray], sample_rate: int, mel: MelConfig
) -> list[np.ndarray]:
    """One (M, T) log-mel per clip of a (S,) array, a (B, S) array or a list of (S_i,) arrays."""
    return [compute_log_mel(clip, sample_rate, mel) for clip in clips_of_inputs(audio)]


# ----- persistence of reference-model folders (config.json + model.safetensors) -------------
def load_folder(folder: Path, *, weights: str, what: str, hint: str
                ) -> tuple[dict, dict[str, torch.Tensor]]:
    """(config dict, state dict) of a reference-model folder; errors say what to do."""
    if weights not in ("model", "ema"):
        raise UnisonoError(f"weights must be 'model' or 'ema'; got {weights!r}")
    data = read_config_data(folder, what=what, hint=hint)
    return data, load_file(str(weights_file(folder, weights=weights, what=what)))


def load_state(model: nn.Module, state: dict[str, torch.Tensor], folder: Path) -> None:
    """`load_state_dict` (float16 weights load into float32 parameters) with a clear error."""
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise UnisonoError(f"weights in {folder} do not fit its config: {err}") from err
