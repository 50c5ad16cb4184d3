"""Animal calls: bird chirp, crickets, dog bark, cat meow, owl hoot, frog croak, rooster crow.

Birds are fast frequency sweeps, insects are gated high carriers, mammals are voiced sources with
moving formants (`formant_voice`). Synth signature:
`synth(rng, *, duration, sample_rate, variant, count) -> (S,)`.
"""

from __future__ import annotations

import numpy as np

from unisono.world.sfx.synth import (
    N_VARIANTS,
    Variation,
    attack_release,
    bandpass,
    exp_decay,
    formant_voice,
    harmonic_tone,
    lowpass,
    n_samples,
    repeat,
    resonator,
    sine,
    time_axis,
    white,
)

OWL_HZ = (280.0, 480.0)


def bird_chirp(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Songbird chirps: short whistled sweeps (up, down or arched) at 2-6 kHz with a fast warble."""
    vary = Variation(rng, variant, N_VARIANTS)
    centre = vary.log_uniform(2200.0, 5000.0)
    span = vary.uniform(0.3, 0.8)
    length = vary.uniform(0.05, 0.16)
    shape = int(rng.integers(3))

    def chirp(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 2)
        u = np.linspace(0.0, 1.0, n)
        contour = {0: u, 1: 1.0 - u, 2: 1.0 - 4.0 * (u - 0.5) ** 2}[shape]
        freq = centre * (1.0 - span / 2.0 + span * contour)
        freq *= 1.0 + 0.03 * sine(rng.uniform(40.0, 80.0), n, sample_rate)
        tone = harmonic_tone(freq, n, sample_rate, [1.0, 0.15])
        return tone * np.sin(np.pi * np.minimum(u * 4.0, 1.0) / 2.0 + 0.3) * (1.0 - u) ** 0.5

    return repeat(rng, count, duration, sample_rate, chirp)


def crickets(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Field crickets: a pure 4-5 kHz carrier pulsed in quick trains of chirps, all night long."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    carrier = vary.uniform(3800.0, 5200.0)
    pulse_rate = vary.uniform(30.0, 60.0)
    chirp_rate = vary.uniform(1.0, 3.0)
    pulses_per_chirp = int(rng.integers(3, 6))
    t = time_axis(n, sample_rate)
    since_chirp = t % (1.0 / chirp_rate)
    pulse_index = np.floor(since_chirp * pulse_rate)
    pulse_phase = (since_chirp * pulse_rate) % 1.0
    gate = (pulse_index < pulses_per_chirp) * np.sin(np.pi * np.clip(pulse_phase / 0.7, 0.0, 1.0))
    tone = harmonic_tone(carrier, n, sample_rate, [1.0, 0.1])
    # A second, quieter insect out of step gives the chorus depth.
    other = np.roll(gate, int(rng.integers(n // 4 + 1, n // 2 + 2))) * 0.4
    return tone * gate + sine(carrier * 1.04, n, sample_rate) * other


def dog_bark(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Dog barks: loud, short, rough voiced bursts with a falling pitch (a big dog is lower)."""
    vary = Variation(rng, variant, N_VARIANTS)
    f0 = vary.log_uniform(180.0, 650.0)
    length = vary.uniform(0.12, 0.28)
    formant_scale = vary.uniform(0.8, 1.3)

    def bark(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 2)
        u = np.linspace(0.0, 1.0, n)
        pitch = f0 * rng.uniform(0.92, 1.08) * (1.2 - 0.45 * u) * (1.0 + 0.04 * white(rng, n))
        voice = formant_voice(pitch, [700.0 * formant_scale, 1400.0 * formant_scale,
                                      2600.0 * formant_scale], [250.0, 300.0, 500.0], sample_rate)
        rough = bandpass(white(rng, n), sample_rate, 500.0, 3500.0)
        envelope = np.minimum(u / 0.05, 1.0) ** 0.5 * np.exp(-2.5 * u)
        return (voice / (np.std(voice) + 1e-12) + 0.5 * rough / (np.std(rough) + 1e-12)) * envelope

    return repeat(rng, count, duration, sample_rate, bark)


def cat_meow(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Cat meows: 'mi-aow', a rising-falling pitch with formants opening from i to a to u."""
    vary = Variation(rng, variant, N_VARIANTS)
    f0 = vary.log_uniform(380.0, 800.0)
    length = vary.uniform(0.45, 1.1)

    def meow(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.85 * room) * sample_rate), 2)
        u = np.linspace(0.0, 1.0, n)
        pitch = f0 * (0.85 + 0.4 * np.sin(np.pi * u**0.8)) * (1.0 + 0.01 * sine(6.0, n, sample_rate))
        first = np.interp(u, [0.0, 0.3, 0.7, 1.0], [500.0, 1000.0, 900.0, 600.0])
        second = np.interp(u, [0.0, 0.3, 0.7, 1.0], [2600.0, 1800.0, 1300.0, 1000.0])
        voice = formant_voice(pitch, [first, second, 3500.0], [180.0, 250.0, 400.0], sample_rate)
        envelope = np.minimum(u / 0.03, 1.0) * (1.0 - u) ** 0.6 * (0.5 + 0.5 * np.sin(np.pi * u))
        return voice * (envelope + 0.3 * (u < 0.03))

    return repeat(rng, count, duration, sample_rate, meow)


def owl_hoot(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Owl hoots: soft, low, almost pure tones with a small downward bend and breath."""
    vary = Variation(rng, variant, N_VARIANTS)
    f0 = vary.uniform(OWL_HZ[0] * 1.05, OWL_HZ[1] / 1.12)
    length = vary.uniform(0.25, 0.7)

    def hoot(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 2)
        u = np.linspace(0.0, 1.0, n)
        pitch = f0 * (1.1 - 0.1 * u)
        tone = harmonic_tone(pitch, n, sample_rate, [1.0, 0.12, 0.04])
        breath = lowpass(white(rng, n), sample_rate, 900.0) * 0.05
        return (tone + breath) * np.minimum(u / 0.04, 1.0) ** 0.5 * np.sin(np.pi * (0.15 + 0.85 * u))

    return repeat(rng, count, duration, sample_rate, hoot)


def frog_croak(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Frog croaks ('ribbit'): a rapid train of resonant glottal pulses through a vocal sac."""
    vary = Variation(rng, variant, N_VARIANTS)
    pulse_rate = vary.uniform(40.0, 110.0)
    sac = vary.log_uniform(350.0, 1200.0)
    length = vary.uniform(0.15, 0.4)

    def croak(index: int, room: float) -> np.ndarray:
        n = max(int(min(length, 0.8 * room) * sample_rate), 2)
        pulses = np.zeros(n)
        pulses[:: max(int(sample_rate / pulse_rate), 1)] = 1.0
        body = resonator(pulses, sample_rate, sac, sac * 0.15)
        body += 0.6 * resonator(pulses, sample_rate, sac * 2.3, sac * 0.3)
        u = np.linspace(0.0, 1.0, n)
        return body * (0.6 + 0.4 * np.sin(np.pi * u)) * (1.0 - u) ** 0.3

    return repeat(rng, count, duration, sample_rate, croak)


def rooster_crow(
    rng: np.random.Generator, *, duration: float, sample_rate: int, variant: int, count: int
) -> np.ndarray:
    """Rooster crow 'cock-a-doodle-doo': four harsh voiced syllables, the last one long."""
    vary = Variation(rng, variant, N_VARIANTS)
    n = n_samples(duration, sample_rate)
    f0 = vary.log_uniform(450.0, 800.0)
    u = time_axis(n, sample_rate) / duration
    # Syllable boundaries as fractions of the call, with a pitch per syllable.
    edges = np.array([0.0, 0.12, 0.24, 0.42, 1.0])
    pitches = np.array([1.0, 1.25, 1.4, 1.15])
    syllable = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, 3)
    local = (u - edges[syllable]) / (edges[syllable + 1] - edges[syllable])
    glide = np.where(syllable == 3, 1.0 - 0.25 * local, 1.0)
    pitch = f0 * pitches[syllable] * glide * (1.0 + 0.02 * white(rng, n))
    voice = formant_voice(pitch, [1100.0, 2200.0, 3300.0], [300.0, 400.0, 600.0], sample_rate)
    rasp = bandpass(white(rng, n), sample_rate, 1500.0, 4500.0)
    envelope = np.sin(np.pi * np.clip(local * 0.92 + 0.08, 0.0, 1.0)) ** 0.4
    envelope *= np.where(syllable == 3, exp_decay(n, sample_rate, duration * 3.0), 1.0)
    return (voice / (np.std(voice) + 1e-12) + 0.3 * rasp / (np.std(rasp) + 1e-12)) * envelope * (
        attack_release(n, sample_rate, 0.002, 0.08)
    )
