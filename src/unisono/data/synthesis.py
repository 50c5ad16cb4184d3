"""Online synthesis: reproducible augmentation and mixing with every stem kept.

`augment` applies, each with its own probability, a time stretch (0.8-1.2), a pitch shift (within
+-3 semitones, Audio-Omni 3), reverberation (synthetic room), additive coloured noise at an SNR and
a 2-6 kHz low-pass. It always draws the same numbers from the generator, whichever effects end up
applied, so changing one probability does not reshuffle the others.

`Mixture` holds named stems of one length; a mix is the float32 sum of some of them, so tests can
check edit targets exactly (remove: target = mix - stem). `place_event` fades and positions a
foreground clip, `event_gain` scales it to an RMS SNR over a background (UNISON 3.6: RMS-based
SNR mixing, boundary fades, random onsets).

Shapes: S samples (mono float32).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unisono.audio import (
    fade,
    lowpass,
    pitch_shift,
    place,
    reverberate,
    rms,
    synthetic_rir,
    time_stretch,
)
from unisono.errors import UnisonoError

PEAK_LIMIT = 0.99
SILENT_RMS = 1e-6
_MIN_EFFECT_SAMPLES = 4096  # phase-vocoder effects need a few STFT frames
_NOISE_EXPONENTS = (0.0, 1.0, 2.0)  # white, pink, brown


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the augmentations `augment` applies.

    Attributes:
        stretch_probability: chance of a time stretch; `stretch_range` is its rate range
            (rate > 1 is faster, so the clip gets shorter).
        pitch_probability: chance of a pitch shift of up to +-`max_semitones`.
        reverb_probability: chance of a synthetic room with RT60 in `rt60_range` seconds.
        noise_probability: chance of white/pink/brown noise at an SNR in `noise_snr_range` dB.
        lowpass_probability: chance of a low-pass with a cutoff in `cutoff_range` Hz.
    """

    stretch_probability: float = 0.0
    stretch_range: tuple[float, float] = (0.8, 1.2)
    pitch_probability: float = 0.0
    max_semitones: float = 3.0
    reverb_probability: float = 0.0
    rt60_range: tuple[float, float] = (0.2, 1.0)
    noise_probability: float = 0.0
    noise_snr_range: tuple[float, float] = (10.0, 40.0)
    lowpass_probability: float = 0.0
    cutoff_range: tuple[float, float] = (2000.0, 6000.0)

    def __post_init__(self) -> None:
        for name in ("stretch", "pitch", "reverb", "noise", "lowpass"):
            value = getattr(self, f"{name}_probability")
            if not 0.0 <= value <= 1.0:
                raise UnisonoError(f"{name}_probability must be in [0, 1]; got {value}")
        for name in ("stretch_range", "rt60_range", "noise_snr_range", "cutoff_range"):
            low, high = getattr(self, name)
            if low > high:
                raise UnisonoError(f"{name} must be (low, high) with low <= high; got {(low, high)}")
        if self.stretch_range[0] <= 0 or self.rt60_range[0] <= 0 or self.cutoff_range[0] <= 0:
            raise UnisonoError("stretch rates, RT60 and cutoffs must be positive")
        if self.max_semitones < 0:
            raise UnisonoError(f"max_semitones must be >= 0; got {self.max_semitones}")


def augment(
    audio: np.ndarray, rate: int, rng: np.random.Generator, config: AugmentConfig
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply the configured augmentations in the order stretch, pitch, reverb, noise, low-pass.

    Args:
        audio: mono float32 (S,); not modified (the result is always a new array).
        rate: its sample rate.
        rng: the only source of randomness (a fixed number of draws per call).
        config: probabilities and ranges.

    Returns:
        (augmented audio (S',), the parameters applied by name). S' = S unless a stretch applied.
        Stretch and pitch skip clips shorter than 4096 samples.
    """
    coins = rng.random(5)
    stretch = float(rng.uniform(*config.stretch_range))
    semitones = float(rng.uniform(-config.max_semitones, config.max_semitones))
    rt60 = float(rng.uniform(*config.rt60_range))
    noise_snr = float(rng.uniform(*config.noise_snr_range))
    exponent = _NOISE_EXPONENTS[int(rng.integers(len(_NOISE_EXPONENTS)))]
    cutoff = float(rng.uniform(*config.cutoff_range))
    room_seed, noise_seed = (int(seed) for seed in rng.integers(2**31 - 1, size=2))
    out = np.array(audio, dtype=np.float32)
    params: dict[str, Any] = {}
    long_enough = out.shape[0] >= _MIN_EFFECT_SAMPLES
    if coins[0] < config.stretch_probability and long_enough and stretch != 1.0:
        out = time_stretch(out, stretch)
        params["stretch"] = stretch
    if coins[1] < config.pitch_probability and long_enough and semitones != 0.0:
        out = pitch_shift(out, rate, semitones)
        params["semitones"] = semitones
    if coins[2] < config.reverb_probability:
        out = reverberate(out, synthetic_rir(np.random.default_rng(room_seed), rate, rt60=rt60))
        params["rt60"] = rt60
    if coins[3] < config.noise_probability and rms(out) > SILENT_RMS:
        from unisono.world.sfx.synth import coloured_noise  # unit-variance 1/f^exponent noise

        noise = coloured_noise(np.random.default_rng(noise_seed), out.shape[0], exponent)
        out = (out + noise * (rms(out) / 10.0 ** (noise_snr / 20.0))).astype(np.float32)
        params.update(noise_snr_db=noise_snr, noise_exponent=exponent)
    if coins[4] < config.lowpass_probability:
        cutoff = min(cutoff, 0.45 * rate)
        out = lowpass(out, rate, cutoff)
        params["cutoff_hz"] = cutoff
    return out.astype(np.float32, copy=False), params


def random_window(audio: np.ndarray, samples: int, rng: np.random.Generator, *,
                  rate: int, fade_seconds: float = 0.01) -> np.ndarray:
    """A random `samples`-long window of `audio` with short fades at cut edges; shorter audio is
    returned whole (as a float32 copy). One draw from `rng` either way."""
    start_fraction = float(rng.random())
    if audio.shape[0] <= samples:
        return np.array(audio, dtype=np.float32)
    start = int(start_fraction * (audio.shape[0] - samples + 1))
    window = np.array(audio[start : start + samples], dtype=np.float32)
    return fade(window, rate, fade_in=fade_seconds if start > 0 else 0.0,
                fade_out=fade_seconds if start + samples < audio.shape[0] else 0.0)


def trim_silence(audio: np.ndarray, rate: int, *, top_db: float = 40.0,
                 frame_seconds: float = 0.01) -> np.ndarray:
    """Cut leading and trailing frames quieter than `top_db` below the loudest frame (a copy).

    Placed events then start sounding at their onset, so instructions that name the time are
    true. Silent audio comes back unchanged.
    """
    frame = max(1, int(round(frame_seconds * rate)))
    count = audio.shape[0] // frame
    if count == 0:
        return np.array(audio, dtype=np.float32)
    energy = np.square(audio[: count * frame].astype(np.float64)).reshape(count, frame).mean(axis=1)
    peak = float(energy.max())
    if peak <= SILENT_RMS**2:
        return np.array(audio, dtype=np.float32)
    loud = np.flatnonzero(energy >= peak * 10.0 ** (-top_db / 10.0))
    start, stop = int(loud[0]) * frame, min(audio.shape[0], (int(loud[-1]) + 1) * frame)
    return np.array(audio[start:stop], dtype=np.float32)


def event_gain(background: np.ndarray, event: np.ndarray, snr_db: float, *,
               fallback_db: float = -20.0) -> float:
    """The gain that puts `event` (RMS over its own samples) `snr_db` above `background`'s RMS.

    Over a silent background the event is set to `fallback_db` dBFS instead.

    Raises:
        UnisonoError: the event is silent.
    """
    event_level = rms(event)
    if event_level < SILENT_RMS:
        raise UnisonoError("cannot mix a silent event clip: remove it from the manifest")
    background_level = rms(background)
    if background_level < SILENT_RMS:
        return 10.0 ** (fallback_db / 20.0) / event_level
    return background_level * 10.0 ** (snr_db / 20.0) / event_level


def place_event(event: np.ndarray, total: int, onset: int, rate: int, *,
                fade_seconds: float = 0.02) -> np.ndarray:
    """Fade an event in and out and put it at `onset` samples in a zero track of `total` samples
    (cut at the end)."""
    faded = fade(event, rate, fade_in=fade_seconds, fade_out=fade_seconds)
    return place(faded, total, onset)


@dataclass
class Mixture:
    """Named stems of equal length (S,); mixes are float32 sums of chosen stems.

    Attributes:
        stems: stem name -> audio, all the same length.
        onsets: stem name -> onset in seconds (for placed events).
    """

    stems: dict[str, np.ndarray]
    onsets: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lengths = {stem.shape for stem in self.stems.values()}
        if len(lengths) > 1:
            raise UnisonoError(f"mixture stems differ in length: {sorted(lengths)}")
        self.stems = {name: np.asarray(s, dtype=np.float32) for name, s in self.stems.items()}

    @property
    def samples(self) -> int:
        """Length of every stem."""
        return next(iter(self.stems.values())).shape[0] if self.stems else 0

    def mix(self, *names: str) -> np.ndarray:
        """The sum of the named stems in the given order (all stems, in insertion order, if none)."""
        chosen = names or tuple(self.stems)
        unknown = [name for name in chosen if name not in self.stems]
        if unknown:
            raise UnisonoError(f"unknown stems {unknown}; the mixture has {list(self.stems)}")
        out = np.zeros(self.samples, dtype=np.float32)
        for name in chosen:
            out += self.stems[name]
        return out

    def fit_peak(self, *mixes: tuple[str, ...], limit: float = PEAK_LIMIT) -> float:
        """Scale every stem by one gain so that none of the given mixes peaks above `limit`.

        Returns the gain applied (1.0 when all mixes already fit). One gain keeps every sum
        relation between stems exact.
        """
        groups = mixes or (tuple(self.stems),)
        peak = max(float(np.max(np.abs(self.mix(*group)), initial=0.0)) for group in groups)
        if peak <= limit:
            return 1.0
        gain = np.float32(limit / peak)
        self.stems = {name: (stem * gain).astype(np.float32) for name, stem in self.stems.items()}
        return float(gain)
