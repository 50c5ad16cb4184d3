"""Stationary background beds for the Unisono world: weather, rooms, traffic, coloured noise.

A background has no onset: it is (statistically) the same at every point of the clip, so a scene
can place events anywhere over it and an enhancement pair can cut any window of it. `render_background`
seeds the generator, fits the exact length, applies 5 ms anti-click fades and peak-normalises.

Shapes: S samples = round(duration * sample_rate).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unisono.audio.dsp import fade
from unisono.errors import UnisonoError
from unisono.world.sfx import animals, nature
from unisono.world.sfx.synth import (
    PEAK_LEVEL,
    checked_length,
    coloured_noise,
    harmonic_tone,
    lowpass,
    n_samples,
    smooth_random,
    time_axis,
    white,
)

__all__ = ["BACKGROUNDS", "Background", "render_background"]

ANTI_CLICK_SECONDS = 0.005


@dataclass(frozen=True)
class Background:
    """A stationary background bed.

    Attributes:
        name: registry key, e.g. "rain", "room tone".
        description: caption phrase, e.g. "steady rain".
        render: render(rng, *, duration, sample_rate) -> (S,) raw (unnormalised) audio.
    """

    name: str
    description: str
    render: Callable[..., np.ndarray]


def _noise_colour(exponent: float) -> Callable[..., np.ndarray]:
    def render(rng: np.random.Generator, *, duration: float, sample_rate: int) -> np.ndarray:
        return coloured_noise(rng, n_samples(duration, sample_rate), exponent)

    return render


def _from_event(synth: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A continuous event class used as a bed, with a random training variant."""

    def render(rng: np.random.Generator, *, duration: float, sample_rate: int) -> np.ndarray:
        variant = int(rng.integers(0, 3))
        return synth(rng, duration=duration, sample_rate=sample_rate, variant=variant, count=1)

    return render


def room_tone(rng: np.random.Generator, *, duration: float, sample_rate: int) -> np.ndarray:
    """Quiet indoor air: ventilation rumble, fan noise and a faint mains hum (50 or 60 Hz)."""
    n = n_samples(duration, sample_rate)
    mains = 50.0 if rng.random() < 0.5 else 60.0
    hum = harmonic_tone(mains, n, sample_rate, [1.0, 0.5, 0.35, 0.2, 0.1])
    hvac = lowpass(coloured_noise(rng, n, 1.5), sample_rate, rng.uniform(250.0, 800.0))
    fan = lowpass(white(rng, n), sample_rate, rng.uniform(2000.0, 5000.0), order=1)
    return (hvac / (np.std(hvac) + 1e-12) + rng.uniform(0.05, 0.3) * hum / (np.std(hum) + 1e-12)
            + 0.3 * fan / (np.std(fan) + 1e-12))


def _passing_car(rng: np.random.Generator, n: int, sample_rate: int, centre: float) -> np.ndarray:
    """One car passing at time `centre` (s): tyre noise and engine swell with a Doppler glide.

    Only the +-4 closeness window around the pass is synthesised; the loudness curve is lowered to
    reach zero at its edges (no step), and the rest of the (S,) track stays zero.
    """
    closeness = rng.uniform(1.0, 3.0)  # seconds over which the car is loud
    engine_hz, tyre_cutoff, level = rng.uniform(30.0, 70.0), rng.uniform(700.0, 1500.0), rng.uniform(0.4, 1.0)
    first = max(int((centre - 4.0 * closeness) * sample_rate), 0)
    last = min(int((centre + 4.0 * closeness) * sample_rate), n)
    track = np.zeros(n)
    if last - first < 2:
        return track
    t = first / sample_rate + time_axis(last - first, sample_rate)
    relative = (t - centre) / closeness
    loudness = np.maximum(1.0 / (1.0 + relative**2) - 1.0 / 17.0, 0.0)
    # Doppler: a few percent higher while approaching, lower when moving away.
    doppler = 1.0 - 0.04 * np.tanh(2.0 * relative)
    engine = harmonic_tone(engine_hz * doppler, last - first, sample_rate, [1.0, 0.6, 0.4, 0.3, 0.2])
    tyres = lowpass(white(rng, last - first), sample_rate, tyre_cutoff)
    track[first:last] = loudness * (0.4 * engine + tyres / (np.std(tyres) + 1e-12)) * level
    return track


def traffic(rng: np.random.Generator, *, duration: float, sample_rate: int) -> np.ndarray:
    """Distant traffic: a constant low rumble with cars passing now and then."""
    n = n_samples(duration, sample_rate)
    rumble = lowpass(coloured_noise(rng, n, 2.0), sample_rate, 250.0)
    out = rumble / (np.std(rumble) + 1e-12)
    rate = rng.uniform(0.2, 0.8)  # cars per second
    # Cars are already passing before the clip starts so that the bed has no onset.
    centre = -12.0 + rng.exponential(1.0 / rate)
    cars = np.zeros(n)
    while centre < duration + 12.0:
        cars += _passing_car(rng, n, sample_rate, centre)
        centre += rng.exponential(1.0 / rate)
    out += 1.5 * cars * (1.0 + 0.05 * smooth_random(rng, n, sample_rate, 0.3))
    # Distance: the far field is dull.
    return lowpass(out, sample_rate, 2500.0, order=1)


def night(rng: np.random.Generator, *, duration: float, sample_rate: int) -> np.ndarray:
    """Countryside at night: a cricket chorus over faint breeze."""
    chorus = animals.crickets(rng, duration=duration, sample_rate=sample_rate,
                              variant=int(rng.integers(0, 3)), count=1)
    breeze = lowpass(coloured_noise(rng, chorus.shape[0], 1.5), sample_rate, 400.0)
    return chorus / (np.std(chorus) + 1e-12) + 0.3 * breeze


BACKGROUNDS: dict[str, Background] = {
    bed.name: bed
    for bed in (
        Background("rain", "steady rain", _from_event(nature.rain)),
        Background("wind", "wind blowing", _from_event(nature.wind)),
        Background("room tone", "quiet room tone", room_tone),
        Background("traffic", "distant traffic", traffic),
        Background("ocean", "ocean waves", _from_event(nature.waves)),
        Background("stream", "a babbling stream", _from_event(nature.stream)),
        Background("night", "crickets at night", night),
        Background("white noise", "white noise", _noise_colour(0.0)),
        Background("pink noise", "pink noise", _noise_colour(1.0)),
        Background("brown noise", "brown noise", _noise_colour(2.0)),
    )
}


def render_background(name: str, *, seed: int, duration: float, sample_rate: int) -> np.ndarray:
    """Render a stationary background bed, deterministically from `seed`.

    Args:
        name: a key of `BACKGROUNDS`.
        seed: random seed; identical arguments give byte-identical output.
        duration: clip length in seconds (> 0).
        sample_rate: sampling rate in Hz (>= MIN_SAMPLE_RATE = 16000).

    Returns:
        (S,) float32, S = round(duration * sample_rate), peak PEAK_LEVEL.

    Raises:
        UnisonoError: unknown background (close names are suggested), bad duration or rate.
    """
    if name not in BACKGROUNDS:
        close = difflib.get_close_matches(name.lower(), list(BACKGROUNDS), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise UnisonoError(f"unknown background {name!r}; {hint}choose one of {', '.join(BACKGROUNDS)}")
    n = checked_length(duration, sample_rate)
    rng = np.random.default_rng(seed)
    raw = BACKGROUNDS[name].render(rng, duration=float(duration), sample_rate=int(sample_rate))
    out = np.zeros(n)
    out[: min(n, raw.shape[0])] = raw[:n]
    out = fade(out, int(sample_rate), fade_in=ANTI_CLICK_SECONDS, fade_out=ANTI_CLICK_SECONDS)
    peak = float(np.max(np.abs(out)))
    if peak > 0.0:
        out *= PEAK_LEVEL / peak
    return out.astype(np.float32)
