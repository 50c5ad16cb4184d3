"""Shared building blocks for procedural sound events.

Oscillators, envelopes, coloured and filtered noise, resonators, modal (struck-object) synthesis,
FM, grain placement and the per-variant parameter sampler. Everything is vectorised numpy/scipy so
that a class renders far faster than real time.

Shapes: S samples. Every generator returns a float64 (S,) array; `finish` casts to float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal

from unisono.audio.dsp import fade
from unisono.errors import UnisonoError

N_VARIANTS = 4
# Sounds of the world reach ~7 kHz (bird chirps, coins, crickets): 16 kHz keeps them below 0.45 fs.
MIN_SAMPLE_RATE = 16000
PEAK_LEVEL = 0.5
FADE_IN_SECONDS = 0.002
FADE_OUT_SECONDS = 0.01


class Variation:
    """Draws parameters from the sub-range of their span that a variant owns.

    Each span [lo, hi] is cut into `n_variants` equal bins. The held-out variant (the last one)
    owns the middle bin, so generalisation tests interpolate between trained timbres rather than
    extrapolate beyond them; the training variants own the remaining bins in order.
    """

    def __init__(self, rng: np.random.Generator, variant: int, n_variants: int) -> None:
        middle = n_variants // 2
        order = [b for b in range(n_variants) if b != middle] + [middle]
        self.rng = rng
        self.bin = order[variant]
        self.n_bins = n_variants

    def uniform(self, lo: float, hi: float) -> float:
        """A value in this variant's bin of [lo, hi]."""
        fraction = (self.bin + self.rng.random()) / self.n_bins
        return float(lo + fraction * (hi - lo))

    def log_uniform(self, lo: float, hi: float) -> float:
        """A value in this variant's bin of [lo, hi] on a log scale (for frequencies and rates)."""
        return float(np.exp(self.uniform(np.log(lo), np.log(hi))))

    def integer(self, lo: int, hi: int) -> int:
        """An integer in this variant's bin of [lo, hi] (inclusive)."""
        return int(np.floor(self.uniform(lo, hi + 1 - 1e-9)))


def n_samples(duration: float, sample_rate: int) -> int:
    """The exact sample count of a clip: round(duration * sample_rate)."""
    return int(round(duration * sample_rate))


def checked_length(duration: float, sample_rate: int) -> int:
    """`n_samples` of a render request after checking its duration and rate (UnisonoError)."""
    if not duration > 0.0 or not np.isfinite(duration):
        raise UnisonoError(f"duration must be a positive number of seconds, got {duration!r}")
    if int(sample_rate) != sample_rate or sample_rate < MIN_SAMPLE_RATE:
        raise UnisonoError(
            f"sample_rate must be an integer >= {MIN_SAMPLE_RATE} Hz (the world's sounds reach 7 kHz), "
            f"got {sample_rate!r}; render at 16 kHz or more and resample with unisono.audio.resample"
        )
    n = n_samples(duration, sample_rate)
    if n < 1:
        raise UnisonoError(f"duration {duration!r} s is shorter than one sample at {sample_rate} Hz")
    return n


def time_axis(n: int, sample_rate: int) -> np.ndarray:
    """Sample times in seconds, (S,)."""
    return np.arange(n) / sample_rate


def nyquist_safe(freq: np.ndarray | float, sample_rate: int) -> np.ndarray | float:
    """Clamp frequencies below 0.45 * sample_rate so nothing aliases."""
    return np.minimum(freq, 0.45 * sample_rate)


def phase(freq: np.ndarray | float, n: int, sample_rate: int) -> np.ndarray:
    """Instantaneous phase (radians) of a constant or time-varying frequency (Hz)."""
    freq = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    return 2.0 * np.pi * np.cumsum(freq) / sample_rate


def sine(freq: np.ndarray | float, n: int, sample_rate: int) -> np.ndarray:
    """A sine at a constant or time-varying frequency, starting at phase 0."""
    return np.sin(phase(freq, n, sample_rate))


def harmonic_tone(
    f0: np.ndarray | float, n: int, sample_rate: int, amplitudes: Sequence[float]
) -> np.ndarray:
    """Additive tone: harmonic k+1 has amplitude amplitudes[k]; harmonics above 0.45 fs are dropped."""
    base = phase(f0, n, sample_rate)
    f0_max = float(np.max(f0))
    out = np.zeros(n)
    # sin(k x) by the Chebyshev recurrence sin((k+1)x) = 2 cos(x) sin(kx) - sin((k-1)x): one
    # multiply-add per harmonic instead of a sine evaluation.
    twice_cos = 2.0 * np.cos(base)
    previous, current = np.zeros(n), np.sin(base)
    for k, amplitude in enumerate(amplitudes, start=1):
        if k * f0_max >= 0.45 * sample_rate:
            break
        if amplitude != 0.0:
            out += amplitude * current
        previous, current = current, twice_cos * current - previous
    return out


def square_wave(f0: np.ndarray | float, n: int, sample_rate: int, n_harmonics: int = 15) -> np.ndarray:
    """Band-limited square (odd harmonics at 1/k)."""
    amps = [1.0 / k if k % 2 else 0.0 for k in range(1, 2 * n_harmonics)]
    return harmonic_tone(f0, n, sample_rate, amps)


def saw_wave(f0: np.ndarray | float, n: int, sample_rate: int, n_harmonics: int = 20) -> np.ndarray:
    """Band-limited sawtooth (all harmonics at 1/k)."""
    return harmonic_tone(f0, n, sample_rate, [1.0 / k for k in range(1, n_harmonics + 1)])


def fm_tone(
    carrier: float, ratio: float, index: np.ndarray | float, n: int, sample_rate: int
) -> np.ndarray:
    """Two-operator FM: sin(2 pi fc t + index * sin(2 pi ratio fc t))."""
    modulator = np.sin(phase(carrier * ratio, n, sample_rate))
    return np.sin(phase(carrier, n, sample_rate) + index * modulator)


def exp_decay(n: int, sample_rate: int, t60: float) -> np.ndarray:
    """Exponential decay reaching -60 dB after t60 seconds."""
    return np.exp(-6.907755 * time_axis(n, sample_rate) / max(t60, 1e-4))


def attack_release(n: int, sample_rate: int, attack: float, release: float) -> np.ndarray:
    """Linear attack, flat sustain, linear release (seconds), each at most half the length."""
    env = np.ones(n)
    k_attack = min(int(attack * sample_rate), n // 2)
    k_release = min(int(release * sample_rate), n // 2)
    if k_attack > 0:
        env[:k_attack] = np.linspace(0.0, 1.0, k_attack, endpoint=False) + 1.0 / k_attack
    if k_release > 0:
        env[n - k_release :] *= np.linspace(1.0, 0.0, k_release)
    return env


def smooth_random(rng: np.random.Generator, n: int, sample_rate: int, rate_hz: float) -> np.ndarray:
    """A slowly varying random curve in [-1, 1]: cosine-interpolated points every 1/rate seconds."""
    n_points = int(np.ceil(n / sample_rate * rate_hz)) + 2
    points = rng.uniform(-1.0, 1.0, n_points)
    position = time_axis(n, sample_rate) * rate_hz
    index = np.floor(position).astype(int)
    frac = position - index
    weight = 0.5 - 0.5 * np.cos(np.pi * frac)
    return points[index] * (1.0 - weight) + points[index + 1] * weight


def white(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gaussian white noise of unit variance."""
    return rng.standard_normal(n)


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown), unit variance."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    freqs[0] = freqs[1] if n > 1 else 1.0
    spectrum *= freqs ** (-exponent / 2.0)
    out = np.fft.irfft(spectrum, n)
    return out / (np.std(out) + 1e-12)


# Butterworth biquad Qs for 2nd and 4th order (cascaded sections). Filters are designed in closed
# form (bilinear transform, as scipy.signal.butter does) because butter() costs ~1 ms per call and
# classes design a filter per repetition.
_BUTTERWORTH_Q = {2: (0.7071067811865476,), 4: (0.5411961001461970, 1.3065629648763766)}


def butterworth_sos(order: int, cutoff: float, sample_rate: int, *, highpass: bool = False) -> np.ndarray:
    """Second-order sections of a digital Butterworth low/high-pass (order 1, 2 or 4)."""
    w0 = 2.0 * np.pi * float(np.clip(cutoff, 1.0, 0.49 * sample_rate)) / sample_rate
    if order == 1:
        k = np.tan(w0 / 2.0)
        a1 = (k - 1.0) / (k + 1.0)
        b = (1.0 / (1.0 + k), -1.0 / (1.0 + k)) if highpass else (k / (1.0 + k), k / (1.0 + k))
        return np.array([[b[0], b[1], 0.0, 1.0, a1, 0.0]])
    cos_w0, sin_w0 = np.cos(w0), np.sin(w0)
    sections = []
    for q in _BUTTERWORTH_Q[order]:
        alpha = sin_w0 / (2.0 * q)
        a0 = 1.0 + alpha
        if highpass:
            b = ((1.0 + cos_w0) / 2.0, -(1.0 + cos_w0), (1.0 + cos_w0) / 2.0)
        else:
            b = ((1.0 - cos_w0) / 2.0, 1.0 - cos_w0, (1.0 - cos_w0) / 2.0)
        sections.append([b[0] / a0, b[1] / a0, b[2] / a0, 1.0, -2.0 * cos_w0 / a0, (1.0 - alpha) / a0])
    return np.array(sections)


def lowpass(audio: np.ndarray, sample_rate: int, cutoff: float, order: int = 2) -> np.ndarray:
    """Causal Butterworth low-pass of order 1, 2 or 4 (cutoff clamped below Nyquist)."""
    return signal.sosfilt(butterworth_sos(order, cutoff, sample_rate), audio)


def highpass(audio: np.ndarray, sample_rate: int, cutoff: float, order: int = 2) -> np.ndarray:
    """Causal Butterworth high-pass of order 1, 2 or 4 (cutoff clamped below Nyquist)."""
    return signal.sosfilt(butterworth_sos(order, cutoff, sample_rate, highpass=True), audio)


def bandpass(audio: np.ndarray, sample_rate: int, lo: float, hi: float, order: int = 2) -> np.ndarray:
    """Causal band-pass: a Butterworth high-pass at `lo` cascaded with a low-pass at `hi`."""
    hi = max(hi, lo * 1.05)
    sos = np.vstack([butterworth_sos(order, lo, sample_rate, highpass=True),
                     butterworth_sos(order, hi, sample_rate)])
    return signal.sosfilt(sos, audio)


def resonator(audio: np.ndarray, sample_rate: int, freq: float, bandwidth: float) -> np.ndarray:
    """Two-pole resonant filter at `freq` with -3 dB `bandwidth` (Hz), unity gain at the peak."""
    freq = float(nyquist_safe(freq, sample_rate))
    radius = np.exp(-np.pi * bandwidth / sample_rate)
    theta = 2.0 * np.pi * freq / sample_rate
    a = [1.0, -2.0 * radius * np.cos(theta), radius * radius]
    return signal.lfilter([1.0 - radius], a, audio)


def formants(audio: np.ndarray, sample_rate: int, peaks: Sequence[tuple[float, float, float]]) -> np.ndarray:
    """Parallel resonators: peaks are (frequency Hz, bandwidth Hz, gain)."""
    return sum(gain * resonator(audio, sample_rate, f, bw) for f, bw, gain in peaks)


def modal(
    n: int,
    sample_rate: int,
    freqs: Sequence[float],
    t60s: Sequence[float],
    amps: Sequence[float],
) -> np.ndarray:
    """Struck-object synthesis: a sum of exponentially decaying sines (modes above 0.45 fs dropped).

    Each mode is Im(a z^t) with z = exp(-decay + i omega). Writing t = block start + offset turns the
    sum over modes into one complex matrix product (blocks x modes) @ (modes x offsets), which is
    far cheaper than evaluating a sine and an exponential per mode and sample.
    """
    freqs, t60s, amps = (np.asarray(v, dtype=np.float64) for v in (freqs, t60s, amps))
    audible = freqs < 0.45 * sample_rate
    if n <= 0 or not np.any(audible):
        return np.zeros(max(n, 0))
    exponent = (-6.907755 / t60s[audible] + 2j * np.pi * freqs[audible]) / sample_rate
    block = 256
    n_blocks = -(-n // block)
    within = np.exp(np.outer(exponent, np.arange(block)))
    starts = amps[audible, None] * np.exp(np.outer(exponent, np.arange(n_blocks) * block))
    # Im(s w) = Re(s) Im(w) + Im(s) Re(w): two real products (complex BLAS is much slower here).
    out = starts.real.T @ within.imag + starts.imag.T @ within.real
    return out.reshape(-1)[:n]


def noise_burst(
    rng: np.random.Generator, length: float, sample_rate: int, lo: float, hi: float, t60: float
) -> np.ndarray:
    """A band-passed noise click decaying with t60 (claps, knocks, footsteps, shutter clicks)."""
    n = max(int(round(length * sample_rate)), 8)
    burst = bandpass(white(rng, n), sample_rate, lo, hi) * exp_decay(n, sample_rate, t60)
    return burst


def add_at(track: np.ndarray, grain: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Add `grain` into `track` at sample `start` (in place), truncating at the end."""
    if start >= track.shape[0] or start < 0:
        return
    stop = min(track.shape[0], start + grain.shape[0])
    track[start:stop] += gain * grain[: stop - start]


def spread_onsets(
    rng: np.random.Generator, count: int, duration: float, *, jitter: float = 0.15
) -> np.ndarray:
    """Onset times (seconds) of `count` repetitions over `duration`, the first at exactly 0.

    Repetitions sit on a regular grid of period duration / count, each nudged by up to `jitter`
    of a period (never before the previous grid point), so they remain separable and countable.
    """
    period = duration / count
    nudges = rng.uniform(0.0, jitter, count) * period
    nudges[0] = 0.0
    return np.arange(count) * period + nudges


def repeat(
    rng: np.random.Generator,
    count: int,
    duration: float,
    sample_rate: int,
    make_one: Callable[[int, float], np.ndarray],
    *,
    jitter: float = 0.15,
) -> np.ndarray:
    """Place `count` repetitions over the clip, the first at sample 0.

    Args:
        rng: the class's generator (onset jitter is drawn from it).
        count: number of repetitions.
        duration: clip length in seconds.
        sample_rate: sampling rate in Hz.
        make_one: make_one(index, room) -> (L,) one repetition, where `room` is the time in seconds
            before the next grid point; a repetition longer than that is allowed to ring on.
        jitter: onset nudge as a fraction of the period.

    Returns:
        (S,) the clip.
    """
    out = np.zeros(n_samples(duration, sample_rate))
    period = duration / count
    for index, onset in enumerate(spread_onsets(rng, count, duration, jitter=jitter)):
        room = period * (1.0 - jitter)
        add_at(out, make_one(index, room), int(round(onset * sample_rate)))
    return out


def poisson_impulses(
    rng: np.random.Generator, n: int, sample_rate: int, rate_hz: float, *, start_at_zero: bool = True
) -> np.ndarray:
    """Sparse impulse train with Poisson arrivals and random amplitudes (for granular textures)."""
    expected = rate_hz * n / sample_rate
    count = int(rng.poisson(expected))
    positions = rng.integers(0, n, count)
    impulses = np.zeros(n)
    np.add.at(impulses, positions, rng.uniform(0.2, 1.0, count) * rng.choice([-1.0, 1.0], count))
    if start_at_zero and n > 0:
        impulses[0] += 1.0
    return impulses


def finish(audio: np.ndarray, n: int, sample_rate: int) -> np.ndarray:
    """Fit to exactly n samples, apply the short fade-in/out and peak-normalise to PEAK_LEVEL."""
    out = np.zeros(n, dtype=np.float64)
    length = min(n, audio.shape[0])
    out[:length] = audio[:length]
    out = np.nan_to_num(out)
    out = fade(out, sample_rate, fade_in=FADE_IN_SECONDS, fade_out=FADE_OUT_SECONDS)
    peak = float(np.max(np.abs(out))) if n else 0.0
    if peak > 0.0:
        out *= PEAK_LEVEL / peak
    return out.astype(np.float32)


def formant_voice(
    f0: np.ndarray,
    formant_freqs: Sequence[np.ndarray | float],
    formant_widths: Sequence[float],
    sample_rate: int,
    *,
    n_harmonics: int = 40,
) -> np.ndarray:
    """Voiced sound with moving formants: harmonics of f0 weighted by Gaussian formant peaks.

    Args:
        f0: (S,) fundamental frequency curve in Hz.
        formant_freqs: per formant, a constant or (S,) centre-frequency curve in Hz.
        formant_widths: per formant, the Gaussian width in Hz.
        sample_rate: sampling rate in Hz.
        n_harmonics: harmonics summed (those above 0.45 fs are silent).

    Returns:
        (S,) voice signal; cheap (vectorised over harmonics) and free of filter onsets.
    """
    n = f0.shape[0]
    base = phase(f0, n, sample_rate)
    # Formant weights change slowly: evaluate them every `hop` samples and hold them.
    hop = 32
    frame_f0 = f0[::hop]
    frame_centres = [np.broadcast_to(np.asarray(c, dtype=np.float64), (n,))[::hop] for c in formant_freqs]
    out = np.zeros(n)
    twice_cos = 2.0 * np.cos(base)
    previous, current = np.zeros(n), np.sin(base)
    for k in range(1, n_harmonics + 1):
        if k > 1:
            previous, current = current, twice_cos * current - previous
        harmonic_freq = k * frame_f0
        if np.min(harmonic_freq) >= 0.45 * sample_rate:
            break
        weight = np.zeros(frame_f0.shape[0])
        for centre, width in zip(frame_centres, formant_widths, strict=True):
            weight += np.exp(-0.5 * ((harmonic_freq - centre) / width) ** 2)
        weight *= harmonic_freq < 0.45 * sample_rate
        if np.max(weight) < 1e-3:
            continue
        out += np.repeat(weight, hop)[:n] * current / np.sqrt(k)
    return out
