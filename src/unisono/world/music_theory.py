"""Music theory for the MIDI world: keys, modes, diatonic chords, progressions and drum grooves.

Everything here is plain data and pure functions on MIDI pitch numbers (60 = middle C); the
random choices are made by the generators in `unisono.world.music`.
"""

from __future__ import annotations

from unisono.errors import UnisonoError

TONICS: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Semitone steps of each mode above its tonic (seven degrees).
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}

TIME_SIGNATURES: dict[str, int] = {"4/4": 4, "3/4": 3, "2/4": 2}  # signature -> quarter beats per bar

# Chord progressions as 0-based scale degrees, one chord per bar; chosen per mode family.
PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 0), (0, 5, 3, 4), (1, 4, 0, 0), (0, 3, 0, 4), (0, 5, 1, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
}

# Drum notes of the General MIDI percussion map (channel 10).
KICK, SNARE, SIDE_STICK, CLOSED_HAT, OPEN_HAT, RIDE, CRASH, LOW_TOM, HIGH_TOM = (
    36, 38, 37, 42, 46, 51, 49, 45, 50,
)

# Grooves on a grid of `steps` per bar: drum note -> (step, accent) hits. `beats` is the bar
# length in quarter notes; a shuffle uses a triplet grid (12 steps per 4/4 bar).
DRUM_GROOVES: dict[str, dict] = {
    "rock": {
        "beats": 4, "steps": 16,
        "hits": {KICK: (0, 8, 10), SNARE: (4, 12), CLOSED_HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
    },
    "four-on-the-floor": {
        "beats": 4, "steps": 16,
        "hits": {KICK: (0, 4, 8, 12), SNARE: (4, 12), OPEN_HAT: (2, 6, 10, 14)},
    },
    "shuffle": {
        "beats": 4, "steps": 12,
        "hits": {KICK: (0, 6), SNARE: (3, 9), RIDE: (0, 2, 3, 5, 6, 8, 9, 11)},
    },
    "waltz": {
        "beats": 3, "steps": 12,
        "hits": {KICK: (0,), SNARE: (4, 8), CLOSED_HAT: (0, 2, 4, 6, 8, 10)},
    },
    "half-time": {
        "beats": 4, "steps": 16,
        "hits": {KICK: (0, 3, 10), SNARE: (8,), CLOSED_HAT: (0, 2, 4, 6, 8, 10, 12, 14)},
    },
    "march": {
        "beats": 2, "steps": 8,
        "hits": {KICK: (0, 4), SNARE: (2, 3, 6, 7), CLOSED_HAT: (0, 2, 4, 6)},
    },
    "funk": {
        "beats": 4, "steps": 16,
        "hits": {KICK: (0, 3, 7, 10), SNARE: (4, 12, 15), CLOSED_HAT: tuple(range(16))},
    },
}


def tonic_pitch_class(key: str) -> int:
    """Pitch class (0 = C) of a key name from `TONICS` (sharps and flats both accepted)."""
    aliases = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}
    name = aliases.get(key, key)
    if name not in TONICS:
        raise UnisonoError(f"unknown key {key!r}: use one of {', '.join(TONICS)}.")
    return TONICS.index(name)


def mode_steps(mode: str) -> tuple[int, ...]:
    """Semitone steps of a mode; raises UnisonoError naming the valid modes."""
    if mode not in MODES:
        raise UnisonoError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    return MODES[mode]


def scale_pitch_classes(key: str, mode: str) -> frozenset[int]:
    """The seven pitch classes of a key and mode."""
    tonic = tonic_pitch_class(key)
    return frozenset((tonic + step) % 12 for step in mode_steps(mode))


def degree_to_pitch(degree: int, *, key: str, mode: str, octave: int) -> int:
    """MIDI pitch of a scale degree (0 = tonic; may be negative or above 6) from an octave.

    `octave` follows MIDI naming: octave 4 holds middle C (60).
    """
    steps = mode_steps(mode)
    wrap, index = divmod(degree, 7)
    return 12 * (octave + 1 + wrap) + tonic_pitch_class(key) + steps[index]


def scale_pitches(key: str, mode: str, low: int, high: int) -> list[int]:
    """All pitches of the scale within [low, high], ascending."""
    classes = scale_pitch_classes(key, mode)
    return [pitch for pitch in range(low, high + 1) if pitch % 12 in classes]


def triad(root_degree: int, *, key: str, mode: str, octave: int) -> tuple[int, int, int]:
    """Diatonic triad stacked in thirds on a scale degree (root, third, fifth)."""
    return tuple(  # type: ignore[return-value]
        degree_to_pitch(root_degree + offset, key=key, mode=mode, octave=octave)
        for offset in (0, 2, 4)
    )


def progression_family(mode: str) -> str:
    """Which progression table suits a mode: modes with a minor third use the minor one."""
    return "minor" if mode_steps(mode)[2] == 3 else "major"


def tempo_word(tempo: float) -> str:
    """Caption word for a tempo in BPM."""
    if tempo < 84:
        return "slow"
    if tempo < 120:
        return "moderate"
    return "fast"
