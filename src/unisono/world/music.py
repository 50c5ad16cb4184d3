"""MIDI music for the synthetic world: generated melodies, chords, bass lines and drum grooves.

A `MusicSpec` is plain data (JSON-serialisable) holding one `Part` per instrument; every note is
known exactly, so pitch, timing and instrument labels are ground truth. Audio comes from the
General MIDI soundfont of the Debian package fluid-soundfont-gm, synthesised in-process by
fluidsynth (the synthesiser wrapper is the last section of this module).

Shapes: mono audio is float32 (S,) with S = round(duration * sample_rate) samples.
"""

from __future__ import annotations

import copy
import ctypes
import os
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from unisono.audio import fade
from unisono.errors import UnisonoError
from unisono.world import music_theory as theory

# name -> (General MIDI program, lowest comfortable melody pitch, highest, roles it can play)
_INSTRUMENT_TABLE: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    "piano": (0, 55, 84, ("melody", "chords")),
    "bright piano": (1, 55, 84, ("melody", "chords")),
    "electric piano": (4, 55, 81, ("melody", "chords")),
    "harpsichord": (6, 53, 81, ("melody", "chords")),
    "celesta": (8, 60, 88, ("melody",)),
    "glockenspiel": (9, 72, 96, ("melody",)),
    "music box": (10, 64, 91, ("melody",)),
    "vibraphone": (11, 55, 84, ("melody", "chords")),
    "marimba": (12, 52, 84, ("melody", "chords")),
    "xylophone": (13, 65, 96, ("melody",)),
    "organ": (16, 52, 81, ("melody", "chords")),
    "church organ": (19, 48, 79, ("melody", "chords")),
    "accordion": (21, 55, 81, ("melody", "chords")),
    "harmonica": (22, 60, 84, ("melody",)),
    "acoustic guitar": (24, 48, 76, ("melody", "chords")),
    "steel guitar": (25, 48, 76, ("melody", "chords")),
    "electric guitar": (27, 50, 79, ("melody", "chords")),
    "distorted guitar": (30, 48, 76, ("melody", "chords")),
    "bass": (33, 31, 55, ("bass",)),
    "acoustic bass": (32, 31, 55, ("bass",)),
    "synth bass": (38, 31, 55, ("bass",)),
    "violin": (40, 57, 88, ("melody",)),
    "viola": (41, 50, 79, ("melody",)),
    "cello": (42, 40, 69, ("melody", "bass")),
    "contrabass": (43, 31, 55, ("bass",)),
    "harp": (46, 48, 84, ("melody", "chords")),
    "strings": (48, 52, 81, ("melody", "chords")),
    "choir": (52, 55, 76, ("melody", "chords")),
    "trumpet": (56, 57, 82, ("melody",)),
    "trombone": (57, 43, 70, ("melody", "bass")),
    "tuba": (58, 31, 55, ("bass",)),
    "french horn": (60, 48, 74, ("melody",)),
    "brass section": (61, 52, 79, ("melody", "chords")),
    "saxophone": (65, 52, 79, ("melody",)),
    "tenor saxophone": (66, 48, 74, ("melody",)),
    "oboe": (68, 60, 86, ("melody",)),
    "bassoon": (70, 36, 64, ("melody", "bass")),
    "clarinet": (71, 52, 84, ("melody",)),
    "piccolo": (72, 74, 98, ("melody",)),
    "flute": (73, 62, 93, ("melody",)),
    "recorder": (74, 64, 88, ("melody",)),
    "pan flute": (75, 60, 86, ("melody",)),
    "whistle": (78, 67, 91, ("melody",)),
    "ocarina": (79, 64, 88, ("melody",)),
    "synth lead": (80, 55, 84, ("melody",)),
    "sawtooth lead": (81, 55, 84, ("melody",)),
    "synth pad": (88, 52, 79, ("chords",)),
    "warm pad": (89, 52, 79, ("chords",)),
    "sitar": (104, 55, 81, ("melody",)),
    "banjo": (105, 55, 81, ("melody", "chords")),
    "kalimba": (108, 60, 84, ("melody",)),
    "bagpipe": (109, 60, 81, ("melody",)),
    "steel drums": (114, 60, 84, ("melody",)),
}

INSTRUMENTS: dict[str, int] = {name: row[0] for name, row in _INSTRUMENT_TABLE.items()}
DRUM_KITS: dict[str, int] = {  # name -> preset number in the percussion bank (128)
    "drum kit": 0, "room drum kit": 8, "power drum kit": 16, "electronic drum kit": 24,
    "808 drum kit": 25, "jazz drum kit": 32, "brush drum kit": 40,
}
DRUM_STYLES: tuple[str, ...] = tuple(theory.DRUM_GROOVES)
STYLES: tuple[str, ...] = ("melody", "chords", "drums", "ensemble")
ROLES: tuple[str, ...] = ("melody", "chords", "bass", "drums")
_DRUM_NOTE_SECONDS = 0.1  # percussion ignores note-off; a short note keeps the spec honest


@dataclass
class Note:
    """One MIDI note: pitch number, onset and offset in seconds, velocity 1-127."""

    pitch: int
    onset: float
    offset: float
    velocity: int


@dataclass
class Part:
    """One instrument's notes; drums use the General MIDI percussion map on channel 10."""

    instrument: str
    program: int
    is_drum: bool
    role: str
    notes: list[Note] = field(default_factory=list)


@dataclass
class MusicSpec:
    """A piece of music as data: the parts plus the musical context captions talk about."""

    parts: list[Part]
    tempo: float
    key: str
    mode: str
    time_signature: str
    duration: float
    style: str = "melody"
    drum_style: str | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable dict (notes as lists of dicts)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> MusicSpec:
        """Rebuild a spec from `to_dict` output; unknown keys are an error naming the key."""
        _check_keys(data, cls, "music spec")
        parts = []
        for part_data in data["parts"]:
            _check_keys(part_data, Part, "music part")
            notes = []
            for note_data in part_data.get("notes", []):
                _check_keys(note_data, Note, "music note")
                notes.append(Note(**note_data))
            parts.append(Part(**{**part_data, "notes": notes}))
        return cls(**{**data, "parts": parts})


def _check_keys(data: dict, kind: type, what: str) -> None:
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UnisonoError(f"unknown {what} key(s) {unknown}: valid keys are {sorted(known)}.")


# ----------------------------------------------------------------------------- generators


def _melody_part(rng: np.random.Generator, instrument: str, ctx: dict) -> Part:
    """Scale-aware melody in two-bar phrases: mostly stepwise, ending each phrase on a chord tone
    with a longer note and (usually) a rest. The first note starts at t = 0."""
    _, low, high, _ = _INSTRUMENT_TABLE[instrument]
    key, mode, beat, bar_beats = ctx["key"], ctx["mode"], ctx["beat"], ctx["bar_beats"]
    pitches = theory.scale_pitches(key, mode, low, high)
    tonic = theory.tonic_pitch_class(key)
    steps = theory.mode_steps(mode)
    stable = {(tonic + steps[d]) % 12 for d in (0, 2, 4)}
    middle = len(pitches) // 2
    candidates = [i for i in range(len(pitches)) if pitches[i] % 12 in stable]
    index = min(candidates, key=lambda i: (abs(i - middle), i))
    notes: list[Note] = []
    phrase_start = 0.0
    while phrase_start < ctx["duration"]:
        phrase_beats = 2 * bar_beats
        rest_beats = float(rng.choice([0.0, 0.5, 1.0, 1.0]))
        final_beats = float(rng.choice([1.0, 1.5, 2.0]))
        body = _rhythm(rng, phrase_beats - rest_beats - final_beats)
        t = phrase_start
        for k, length in enumerate([*body, final_beats]):
            move = int(rng.choice([-2, -1, -1, 0, 1, 1, 2, -3, 3, 4],
                                  p=[.1, .2, .16, .04, .2, .16, .1, .01, .02, .01]))
            index = int(np.clip(index + move, 0, len(pitches) - 1))
            if k == len(body):  # phrase end: settle on the nearest chord tone
                index = min(candidates, key=lambda i: (abs(i - index), i))
            legato = float(rng.uniform(0.8, 0.95))
            velocity = int(rng.integers(80, 111))
            notes.append(Note(pitches[index], round(t, 6), round(t + length * beat * legato, 6),
                              velocity))
            t += length * beat
        phrase_start += phrase_beats * beat
    return Part(instrument, INSTRUMENTS[instrument], False, "melody", _clip(notes, ctx))


def _rhythm(rng: np.random.Generator, beats: float) -> list[float]:
    """Note lengths in beats (eighths to halves) that fill `beats` exactly."""
    lengths: list[float] = []
    left = beats
    while left > 1e-9:
        options = [x for x in (0.5, 1.0, 1.0, 1.5, 2.0) if x <= left + 1e-9]
        choice = float(rng.choice(options))
        if choice == 0.5 and left >= 1.0:  # eighths come in pairs so the line stays on the beat
            lengths += [0.5, 0.5]
            left -= 1.0
        else:
            lengths.append(choice)
            left -= choice
    return lengths


def _fold(pitch: int, low: int, high: int) -> int:
    """Move a pitch by octaves into [low, high]."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return pitch


def _chord_part(rng: np.random.Generator, instrument: str, ctx: dict, *, arpeggiate: bool) -> Part:
    """One diatonic triad per bar from a stock progression, block or broken into eighths."""
    beat, bar_beats = ctx["beat"], ctx["bar_beats"]
    bar = beat * bar_beats
    notes: list[Note] = []
    hits_per_bar = int(rng.choice([1, 2])) if bar_beats % 2 == 0 else 1
    for bar_index in range(int(np.ceil(ctx["duration"] / bar))):
        degree = ctx["progression"][bar_index % len(ctx["progression"])]
        chord = sorted(_fold(p, 52, 75) for p in theory.triad(
            degree, key=ctx["key"], mode=ctx["mode"], octave=4))
        start = bar_index * bar
        velocity = int(rng.integers(65, 90))
        if arpeggiate:
            pattern = [*chord, chord[0] + 12, *chord[::-1]]
            for step in range(2 * bar_beats):
                t = start + step * beat / 2
                pitch = pattern[step % len(pattern)]
                notes.append(Note(pitch, round(t, 6), round(t + beat / 2 * 0.95, 6), velocity))
        else:
            length = bar / hits_per_bar
            for hit in range(hits_per_bar):
                t = start + hit * length
                notes += [Note(p, round(t, 6), round(t + length * 0.92, 6), velocity)
                          for p in chord]
    return Part(instrument, INSTRUMENTS[instrument], False, "chords", _clip(notes, ctx))


def _bass_part(rng: np.random.Generator, instrument: str, ctx: dict) -> Part:
    """Chord roots on the strong beats, with the fifth on the off half of the bar."""
    beat, bar_beats = ctx["beat"], ctx["bar_beats"]
    bar = beat * bar_beats
    _, low, high, _ = _INSTRUMENT_TABLE[instrument]
    notes: list[Note] = []
    for bar_index in range(int(np.ceil(ctx["duration"] / bar))):
        degree = ctx["progression"][bar_index % len(ctx["progression"])]
        chord_root, _, chord_fifth = theory.triad(degree, key=ctx["key"], mode=ctx["mode"],
                                                  octave=2)
        root = _fold(chord_root, low, min(high, low + 14))
        fifth = root + chord_fifth - chord_root
        for b in range(bar_beats):
            pitch = fifth if (b == bar_beats // 2 and bar_beats > 2 and rng.random() < 0.5) else root
            t = bar_index * bar + b * beat
            notes.append(Note(pitch, round(t, 6), round(t + beat * 0.85, 6),
                              int(rng.integers(85, 106))))
    return Part(instrument, INSTRUMENTS[instrument], False, "bass", _clip(notes, ctx))


def _drum_part(rng: np.random.Generator, kit: str, drum_style: str, ctx: dict) -> Part:
    """A groove from `DRUM_GROOVES` repeated bar after bar with accented downbeats."""
    groove = theory.DRUM_GROOVES[drum_style]
    bar = ctx["beat"] * groove["beats"]
    step = bar / groove["steps"]
    notes: list[Note] = []
    for bar_index in range(int(np.ceil(ctx["duration"] / bar))):
        for drum in sorted(groove["hits"]):
            for s in groove["hits"][drum]:
                t = bar_index * bar + s * step
                accent = s * groove["beats"] % groove["steps"] == 0
                velocity = int(rng.integers(100, 121) if accent else rng.integers(70, 96))
                notes.append(Note(drum, round(t, 6), round(t + _DRUM_NOTE_SECONDS, 6), velocity))
    if rng.random() < 0.5:
        notes.append(Note(theory.CRASH, 0.0, _DRUM_NOTE_SECONDS, 110))
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return Part(kit, DRUM_KITS[kit], True, "drums", _clip(notes, ctx))


def _clip(notes: list[Note], ctx: dict) -> list[Note]:
    """Drop notes starting in the last 50 ms and cut the rest at the duration."""
    limit = ctx["duration"]
    kept = [n for n in notes if n.onset < limit - 0.05]
    for n in kept:
        n.offset = min(n.offset, limit)
    return kept


def _pick(rng: np.random.Generator, names: list[str]) -> str:
    return names[int(rng.integers(len(names)))]


def _instruments_for(role: str) -> list[str]:
    return [name for name, row in _INSTRUMENT_TABLE.items() if role in row[3]]


def random_music(
    rng: np.random.Generator,
    *,
    duration: float,
    style: str = "melody",
    instrument: str | None = None,
    key: str | None = None,
    mode: str | None = None,
    tempo: float | None = None,
    drum_style: str | None = None,
) -> MusicSpec:
    """Generate a random piece of music.

    Args:
        rng: The only source of randomness; the same generator state gives the same spec.
        duration: Length in seconds (0 < duration <= 600).
        style: "melody" (one line), "chords" (block or arpeggiated), "drums" (a groove) or
            "ensemble" (melody + chords + bass + drums).
        instrument: Lead instrument (the melody, the chords, or the drum kit for "drums");
            random when None.
        key: Tonic name from `music_theory.TONICS`; random when None.
        mode: "major", "minor", "dorian", ...; random (mostly major/minor) when None.
        tempo: Beats per minute in [40, 240]; random in [60, 160] when None.
        drum_style: One of `DRUM_STYLES` for "drums"/"ensemble"; random when None.

    Returns:
        The MusicSpec; render it with `render_music`.
    """
    if style not in STYLES:
        raise UnisonoError(f"unknown music style {style!r}: use one of {', '.join(STYLES)}.")
    if not 0.0 < duration <= 600.0:
        raise UnisonoError(f"music duration must be in (0, 600] seconds; got {duration}.")
    if tempo is not None and not 40.0 <= tempo <= 240.0:
        raise UnisonoError(f"tempo must be in [40, 240] BPM; got {tempo}.")
    if drum_style is not None and drum_style not in DRUM_STYLES:
        raise UnisonoError(f"unknown drum style {drum_style!r}: use one of {', '.join(DRUM_STYLES)}.")
    key = key if key is not None else theory.TONICS[int(rng.integers(12))]
    theory.tonic_pitch_class(key)
    if mode is None:
        mode = str(rng.choice(["major", "minor", "dorian", "mixolydian"], p=[.45, .4, .1, .05]))
    theory.mode_steps(mode)
    tempo = float(tempo) if tempo is not None else float(rng.integers(60, 161))
    uses_drums = style in ("drums", "ensemble")
    if uses_drums:
        drum_style = drum_style or _pick(rng, list(DRUM_STYLES))
        beats = theory.DRUM_GROOVES[drum_style]["beats"]
        time_signature = f"{beats}/4"
    else:
        drum_style = None
        time_signature = str(rng.choice(["4/4", "3/4", "2/4"], p=[.6, .3, .1]))
    family = theory.progression_family(mode)
    table = theory.PROGRESSIONS[family]
    ctx = {
        "key": key, "mode": mode, "beat": 60.0 / tempo, "duration": float(duration),
        "bar_beats": theory.TIME_SIGNATURES[time_signature],
        "progression": table[int(rng.integers(len(table)))],
    }
    lead_role = {"melody": "melody", "chords": "chords", "drums": "drums", "ensemble": "melody"}
    pool = list(DRUM_KITS) if style == "drums" else _instruments_for(lead_role[style])
    if instrument is None:
        instrument = _pick(rng, pool)
    elif instrument not in pool:
        raise UnisonoError(
            f"instrument {instrument!r} cannot lead a {style!r} piece: use one of {', '.join(pool)}."
        )
    parts: list[Part] = []
    if style in ("melody", "ensemble"):
        parts.append(_melody_part(rng, instrument, ctx))
    if style == "chords":
        parts.append(_chord_part(rng, instrument, ctx, arpeggiate=bool(rng.random() < 0.5)))
    if style == "ensemble":
        chord_pool = [n for n in _instruments_for("chords") if n != instrument]
        parts.append(_chord_part(rng, _pick(rng, chord_pool), ctx,
                                 arpeggiate=bool(rng.random() < 0.4)))
        parts.append(_bass_part(rng, _pick(rng, _instruments_for("bass")), ctx))
    if uses_drums:
        kit = instrument if style == "drums" else _pick(rng, list(DRUM_KITS))
        parts.append(_drum_part(rng, kit, drum_style, ctx))
    return MusicSpec(parts, tempo, key, mode, time_signature, float(duration), style, drum_style)


# ----------------------------------------------------------------------------- rendering


def render_part(part: Part, *, duration: float, sample_rate: int) -> np.ndarray:
    """Render one part at the synthesiser's fixed level (no normalisation).

    Returns float32 (S,), S = round(duration * sample_rate), cut with a 10 ms fade-out. Parts
    are linear: `render_stems` scales these stems by one gain so that they sum to the mix.
    """
    return synthesize([part], duration=duration, sample_rate=sample_rate)


def render_stems(spec: MusicSpec, *, sample_rate: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Render the mix and one stem per part; the stems sum exactly to the mix (peak 0.5)."""
    raw = [render_part(p, duration=spec.duration, sample_rate=sample_rate) for p in spec.parts]
    n = int(round(spec.duration * sample_rate))
    mix = np.sum(raw, axis=0, dtype=np.float32) if raw else np.zeros(n, np.float32)
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    gain = np.float32(0.5 / peak) if peak > 1e-9 else np.float32(0.0)
    stems = [(stem * gain).astype(np.float32) for stem in raw]
    mix = np.sum(stems, axis=0, dtype=np.float32) if stems else mix
    return mix, stems


def render_music(spec: MusicSpec, *, sample_rate: int) -> np.ndarray:
    """Render a spec to mono float32 (S,), S = round(duration * sample_rate), peak 0.5.

    Defined as the sum of the part renders times one gain (see `render_stems`).
    """
    return render_stems(spec, sample_rate=sample_rate)[0]


def restyle(spec: MusicSpec, part_index: int, instrument: str) -> MusicSpec:
    """The same notes with one part played by another instrument (or drum kit)."""
    if not 0 <= part_index < len(spec.parts):
        raise UnisonoError(f"part_index {part_index} out of range: the spec has "
                           f"{len(spec.parts)} part(s).")
    new = copy.deepcopy(spec)
    part = new.parts[part_index]
    table = DRUM_KITS if part.is_drum else INSTRUMENTS
    if instrument not in table:
        kind = "drum kit" if part.is_drum else "instrument"
        raise UnisonoError(f"unknown {kind} {instrument!r}: use one of {', '.join(table)}.")
    part.instrument, part.program = instrument, table[instrument]
    return new


def describe(spec: MusicSpec) -> dict:
    """Caption material: instruments, roles, key, mode, tempo and its word, style, metre."""
    instruments = list(dict.fromkeys(p.instrument for p in spec.parts))
    return {
        "instruments": instruments,
        "roles": {p.role: p.instrument for p in spec.parts},
        "key": spec.key,
        "mode": spec.mode,
        "tempo": int(round(spec.tempo)),
        "tempo_word": theory.tempo_word(spec.tempo),
        "time_signature": spec.time_signature,
        "style": spec.style,
        "drum_style": spec.drum_style,
        "duration": spec.duration,
        "n_notes": sum(len(p.notes) for p in spec.parts),
    }


# ----------------------------------------------------------------------------- synthesiser
#
# fluidsynth keeps hidden per-voice state between renders, so a reused synth gives different
# audio for the same notes depending on what it played before. Loading the soundfont is the
# slow part (~60 ms), so one synth per process loads it once and every render gets a fresh,
# empty synth (~0.5 ms) that borrows the loaded soundfont: renders are then byte-identical and
# independent of order. Reverb and chorus are off so parts add linearly.

SOUNDFONT_PATH = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
_SOUNDFONTS: dict[str, tuple[object, int]] = {}  # path -> (synth owning the soundfont, pointer)
_BLOCK = 64  # fluidsynth applies events at 64-sample block boundaries
_GEN_VOLENV_RELEASE = 38  # SoundFont generator id of the volume-envelope release time
_RELEASE_OFFSET_TIMECENTS = -2400.0  # quarter the release tails (piano ~0.15 s, pads ~0.5 s)
_FLUID_WARN = 2
_SYNTH_SETTINGS = {
    "synth.reverb.active": 0, "synth.chorus.active": 0, "synth.cpu-cores": 1,
    "synth.polyphony": 256,
}


def _fluidsynth():
    try:
        import fluidsynth
    except (ImportError, OSError) as error:
        raise UnisonoError(
            f"cannot load fluidsynth ({error}): install the Debian package libfluidsynth3 and "
            "the Python package pyfluidsynth."
        ) from error
    lib = fluidsynth._fl
    lib.fluid_synth_write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                            ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                            ctypes.c_int, ctypes.c_int]
    lib.fluid_synth_set_gen.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                        ctypes.c_float]
    lib.fluid_synth_get_sfont_by_id.restype = ctypes.c_void_p
    lib.fluid_synth_get_sfont_by_id.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.fluid_synth_add_sfont.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.fluid_synth_remove_sfont.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.fluid_set_log_function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    return fluidsynth, lib


def _soundfont(path: str) -> int:
    """Pointer to the loaded soundfont, loading it once per process."""
    if path not in _SOUNDFONTS:
        if not os.path.isfile(path):
            raise UnisonoError(
                f"General MIDI soundfont not found at {path}: install the Debian package "
                "fluid-soundfont-gm (apt-get install fluid-soundfont-gm)."
            )
        fluidsynth, lib = _fluidsynth()
        # Fresh synths warn that no preset exists until the shared soundfont is attached.
        lib.fluid_set_log_function(_FLUID_WARN, None, None)
        owner = fluidsynth.Synth(gain=0.2, samplerate=44100.0, channels=16, **_SYNTH_SETTINGS)
        sfid = owner.sfload(path)
        if sfid < 0:
            raise UnisonoError(f"fluidsynth could not read the soundfont {path}: reinstall "
                               "fluid-soundfont-gm.")
        _SOUNDFONTS[path] = (owner, lib.fluid_synth_get_sfont_by_id(owner.synth, sfid))
    return _SOUNDFONTS[path][1]


def synthesize(parts: list[Part], *, duration: float, sample_rate: int) -> np.ndarray:
    """Render parts together in one fresh synth at its fixed gain (no normalisation).

    Each melodic part gets its own MIDI channel, the (single) drum part channel 10. Note events
    land on 64-sample block boundaries (4 ms at 16 kHz). Returns float32 (S,), the stereo output
    averaged to mono, cut at `duration` with a 10 ms fade-out.
    """
    if sample_rate < 8000 or sample_rate > 96000:
        raise UnisonoError(f"music sample rate must be in [8000, 96000] Hz; got {sample_rate}.")
    n = int(round(duration * sample_rate))
    melodic = [p for p in parts if not p.is_drum]
    drums = [p for p in parts if p.is_drum]
    if len(melodic) > 15 or len(drums) > 1:
        raise UnisonoError("one synth holds at most 15 melodic parts and one drum part: render "
                           "the parts separately with render_part and sum them.")
    sfont = _soundfont(SOUNDFONT_PATH)
    fluidsynth, lib = _fluidsynth()
    synth = fluidsynth.Synth(gain=0.2, samplerate=float(sample_rate), channels=16,
                             **_SYNTH_SETTINGS)
    try:
        sfid = lib.fluid_synth_add_sfont(synth.synth, sfont)
        events: list[tuple[int, int, int, int, int]] = []  # (block, is_on, channel, pitch, vel)
        channels = [c for c in range(16) if c != 9]
        for channel, part in [*zip(channels, melodic, strict=False), *[(9, d) for d in drums]]:
            synth.program_select(channel, sfid, 128 if part.is_drum else 0, part.program)
            if not part.is_drum:
                lib.fluid_synth_set_gen(synth.synth, channel, _GEN_VOLENV_RELEASE,
                                        _RELEASE_OFFSET_TIMECENTS)
            for note in part.notes:
                on = int(round(note.onset * sample_rate / _BLOCK))
                off = max(on + 1, int(round(note.offset * sample_rate / _BLOCK)))
                events.append((on, 1, channel, note.pitch, note.velocity))
                events.append((off, 0, channel, note.pitch, 0))
        events.sort()  # note-offs before note-ons in the same block, so repeats re-strike
        blocks = -(-n // _BLOCK)
        left = np.zeros(blocks * _BLOCK, np.float32)
        right = np.zeros(blocks * _BLOCK, np.float32)
        done = 0

        def advance(to_block: int) -> None:
            nonlocal done
            if to_block > done:
                count = (to_block - done) * _BLOCK
                lib.fluid_synth_write_float(synth.synth, count, left.ctypes.data, done * _BLOCK,
                                            1, right.ctypes.data, done * _BLOCK, 1)
                done = to_block

        for block, is_on, channel, pitch, velocity in events:
            if block >= blocks:
                break
            advance(block)
            if is_on:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        advance(blocks)
    finally:
        lib.fluid_synth_remove_sfont(synth.synth, sfont)
        synth.delete()
    mono = 0.5 * (left[:n] + right[:n])
    return fade(mono, sample_rate, fade_in=0.0, fade_out=0.01)
