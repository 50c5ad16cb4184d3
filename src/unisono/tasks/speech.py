"""Speech tasks: text to speech (plain, phone-aligned, voice cloning, styled), speech with sounds,
and speech-in-scene edits (insert, delete, rewrite).

Every task works from any manifest whose speech rows carry a `transcript` and `kind: "speech"`
(or no kind): LibriTTS-style rows of path, transcript, speaker, maybe gender. Only `tts_aligned` needs
time-aligned `phonemes` (the world's rows have them); it skips rows without and fails clearly
when none has them. Instructions use only the transcript and the speaker's gender, never
world-only metadata.

- tts: a whole cached utterance; the instruction carries the words ('A woman says: "..."').
- tts_aligned: the same, with the manifest phones as time-aligned content (UniFlow-Audio TA).
- tts_clone: zero-shot cloning (UNISON m = 2): the first 20-40 % of the utterance, cut at a
  phone boundary when phones exist, is given as reference and left out of the loss. The
  instruction carries the whole transcript, as UNISON Table 10 ("Full utterance", "{text}") and
  F5-TTS (reference text + text to generate) do: neither users' rows nor the world's carry the
  word timings that "the rest of the words" would need. `tts_clone_masked` is Audio-Omni 5.1's
  prompt masking (20-75 % of the utterance masked, the full transcript given); our reference must
  be a prefix, so the masked span is always the end of the utterance (a middle span would need a
  non-prefix reference, which the batch format does not have).
- tts_styled: speed (time stretch) and pitch (pitch shift) applied to the waveform, stated in words.
- t2as: an utterance with a named sound event placed in it at an SNR (UNISON T2AS).
- speech_insert / speech_delete / speech_rewrite: a background with an utterance added, removed, or
  swapped for another utterance of the same speaker (UNISON speech-in-scene). Both sides are sums
  of the same stems, so source + speech == target exactly.

Shapes: S samples (mono float32, the pool's sample rate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unisono.audio import normalize_rms, pitch_shift, time_stretch
from unisono.data.clips import load_clip, pool_rate, require_clips, role_clips
from unisono.data.manifest import ManifestEntry, Phoneme
from unisono.data.synthesis import Mixture, augment, event_gain, place_event, random_window
from unisono.errors import UnisonoError
from unisono.tasks.base import ClipPool, InferenceRecipe, Task, TaskExample, register
from unisono.tasks.editing import BACKGROUND_AUGMENT, draw_event, seconds_text
from unisono.world.speech.base import SILENCE

ATTEMPTS = 8  # draws before giving up on clips that turn out too long (unknown durations)
CLONE_REFERENCE = (0.2, 0.4)  # reference prefix as a fraction of the utterance
CLONE_MASKED = (0.2, 0.75)  # Audio-Omni 5.1: fraction of the prompt masked
MIN_CLONE_SECONDS = 2.0  # UNISON drops utterances under 3 s; the world's are 1.5-5 s long
PHONE_GAP_SECONDS = 0.005  # gaps between manifest phones longer than this become a pause
SPEEDS = {"slow": (0.75, 0.85), "fast": (1.2, 1.35)}  # time-stretch rates (> 1 is faster)
PITCHES = {"low": (-3.0, -2.0), "high": (2.0, 3.0)}  # semitones
SPEECH_LEVEL_DB = (-26.0, -18.0)
T2AS_EVENT_SNR_DB = (-10.0, 0.0)  # event RMS over speech RMS
SCENE_SPEECH_SNR_DB = (5.0, 15.0)  # speech over background (UNISON eval: 10 dB)
SCENE_BACKGROUND_DB = (-34.0, -24.0)
SCENE_BACKGROUND_KINDS = ("sfx", "scene", "music", "audio")  # nothing with voices in it
SCENE_MARGIN_SECONDS = (0.3, 2.0)  # background beyond the speech

TTS_TEMPLATES = (
    '{voice} saying: "{text}"',
    '{speaker} says: "{text}"',
    'Say "{text}" in {voice}.',
    'Read this aloud with {voice}: "{text}"',
    'Speech by {speaker}: "{text}"',
    'Generate {voice} speaking the words "{text}".',
    'Text to speech, {voice}: "{text}"',
    'Synthesize {speaker} saying "{text}".',
    'I want to hear {speaker} say "{text}".',
    '{speaker} reading the sentence "{text}" aloud.',
    'Produce clear speech from {voice}: "{text}"',
)
ALIGNED_TEMPLATES = (
    "{voice} speaking.",
    "Speech by {speaker}.",
    "Read the phonemes aloud with {voice}.",
    "Say the given phones in {voice}.",
    "Generate speech from the phoneme sequence with {voice}.",
    "Text to speech with {voice}, following the phone timing.",
    "{speaker} reads the given phonemes.",
    "Produce human-like speech from the phoneme input with {voice}.",
    "Synthesize the aligned phones as {voice}.",
    "Turn the phonemes into natural speech by {speaker}.",
    "Speak the content with {voice}.",
)
CLONE_TEMPLATES = (
    'Continue in this voice: "{text}"',
    'Speak in the voice of the reference: "{text}"',
    'Clone this voice and say: "{text}"',
    'In the same voice as the prompt, the whole utterance: "{text}"',
    "Using this speaker's voice, say \"{text}\".",
    'Keep the speaker of the reference and say: "{text}"',
    'Same voice, same recording: "{text}"',
    'Zero-shot speech in the given voice: "{text}"',
    'Continue the recording in the same voice so that the whole utterance reads: "{text}"',
    'Finish the sentence in this voice: "{text}"',
    'Voice prompt given; speak the whole text: "{text}"',
)
STYLED_TEMPLATES = (
    '{style} says: "{text}"',
    '{style} saying "{text}"',
    'Say "{text}" in {style}.',
    'Read "{text}" aloud with {style}.',
    'Speech by {style}: "{text}"',
    'Generate {style} speaking the words "{text}".',
    'Text to speech, {style}: "{text}"',
    'Synthesize {style} saying "{text}".',
    'I want to hear {style} say "{text}".',
    'Use {style} for this sentence: "{text}"',
    'Produce speech from {style}: "{text}"',
)
T2AS_TEMPLATES = (
    '{speaker} says "{text}". In the background: {event}.',
    '{speaker} says "{text}"; meanwhile: {event}.',
    'Speech: {speaker} saying "{text}". Sound: {event}.',
    'Generate {speaker} saying "{text}", mixed with this sound: {event}.',
    '"{text}", spoken by {speaker}, over this sound: {event}.',
    'A recording of {speaker} saying "{text}". Also audible: {event}.',
    'Make speech with a sound event. Words: "{text}". Voice: {voice}. Sound: {event}.',
    '{speaker} speaks: "{text}". Background sound: {event}.',
    'Create a scene where {speaker} says "{text}" and this sound occurs: {event}.',
    'Speech over a sound. Speech: {speaker} says "{text}". Sound: {event}.',
    'Both at once: {speaker} saying "{text}", and a sound event ({event}).',
)
INSERT_TEMPLATES = (
    'Add {voice} saying "{text}".',
    'Add {speaker} saying "{text}" at {time} s.',
    'Insert speech: {speaker} says "{text}".',
    'Make {speaker} say "{text}" over this recording.',
    'Put the words "{text}", spoken by {voice}, into the scene.',
    'At {time} s, add {speaker} saying "{text}".',
    'Overlay speech on the background: "{text}".',
    'Add the sentence "{text}" spoken by {speaker}.',
    'Insert {voice} saying "{text}", keeping the background.',
    'Mix in {speaker} saying "{text}" starting at {time} seconds.',
    'Edit the audio so that {speaker} says "{text}".',
)
DELETE_TEMPLATES = (
    "Remove the speech.",
    'Remove the voice saying "{text}".',
    "Delete the speech and keep the background.",
    "Remove {speaker} speaking.",
    "Mute the talking but keep every other sound.",
    'Erase the words "{text}".',
    "Get rid of the speech at {time} s.",
    "Cut the spoken words out of the recording.",
    "Keep only the background; remove the speaker.",
    'Remove the sentence "{text}" from the recording.',
    "Make this recording without anyone speaking.",
)
REWRITE_TEMPLATES = (
    'Change the speech to "{new}".',
    'Replace the words "{old}" with "{new}".',
    'Make {speaker} say "{new}" instead.',
    'Rewrite the speech as "{new}", same voice.',
    'Instead of "{old}", the speaker should say "{new}".',
    'Keep the voice and background but change the words to "{new}".',
    'Edit the speech so that it says "{new}".',
    'Replace what is said with "{new}".',
    'Same speaker, new sentence: "{new}".',
    'Swap the sentence "{old}" for "{new}".',
    'Change "{old}" to "{new}" and keep everything else.',
)


# ----------------------------------------------------------------------------- words


def voice_words(gender: str | None) -> tuple[str, str]:
    """("a female voice", "a woman"), ("a male voice", "a man"), or ("a voice", "someone")."""
    return {"female": ("a female voice", "a woman"), "male": ("a male voice", "a man")}.get(
        gender or "", ("a voice", "someone"))


def quoted_text(transcript: str | None) -> str:
    """A transcript ready to sit between double quotes (spaces collapsed, inner quotes single)."""
    return " ".join((transcript or "").split()).replace('"', "'")


def fill_instruction(template: str, **fields: str) -> str:
    """Fill a template with fields as given (transcripts keep their case); the result starts with
    a capital letter and has no doubled full stop after a quoted sentence."""
    text = template.format(**fields)
    for mark in ".?!":
        text = text.replace(f'{mark}".', f'{mark}"')
    return text[:1].upper() + text[1:]


def _template(task: Task, rng: np.random.Generator) -> str:
    return task.templates[int(rng.integers(len(task.templates)))]


# ----------------------------------------------------------------------------- phones


def tile_phones(phonemes: Sequence[Phoneme], duration: float) -> tuple[list[str], list[float]]:
    """Phones and their durations covering [0, `duration`] without gaps.

    A gap before a phone (before the first one too) longer than 5 ms becomes a pause ("_"),
    a shorter one joins the phone; so does the end (a pause after the last phone, or part of
    it when 5 ms or less); neighbouring pauses merge;
    overlaps and spans past `duration` are clipped and empty phones dropped.

    Returns:
        (symbols, seconds) with sum(seconds) == duration (up to float rounding).
    """
    symbols: list[str] = []
    ends = [0.0]

    def push(symbol: str, end: float) -> None:
        end = min(max(end, ends[-1]), duration)
        if end - ends[-1] <= 1e-9:
            return
        if symbol == SILENCE and symbols and symbols[-1] == SILENCE:
            ends[-1] = end
        else:
            symbols.append(symbol)
            ends.append(end)

    for phone in phonemes:
        if phone.start - ends[-1] > PHONE_GAP_SECONDS:
            push(SILENCE, phone.start)
        push(phone.phoneme or SILENCE, phone.end)
    if symbols and duration - ends[-1] <= PHONE_GAP_SECONDS:
        ends[-1] = duration
    push(SILENCE, duration)
    return symbols, [float(b - a) for a, b in zip(ends[:-1], ends[1:], strict=True)]


def phone_cut(phonemes: Sequence[Phoneme], duration: float, wanted: float,
              bounds: tuple[float, float]) -> float:
    """Where to cut a reference prefix: the phone boundary nearest to `wanted` seconds among those
    inside `bounds` (fractions of `duration`); `wanted` itself when none is (or no phones)."""
    low, high = bounds[0] * duration, bounds[1] * duration
    inside = [p.end for p in phonemes if low <= p.end <= high]
    if not inside:
        return wanted
    return float(min(inside, key=lambda end: (abs(end - wanted), end)))


# ----------------------------------------------------------------------------- utterances


def _is_utterance(entry: ManifestEntry) -> bool:
    # Hand-written rows may leave out `kind`: a transcript alone marks speech.
    return entry.kind in ("speech", None) and bool((entry.transcript or "").strip())


def _is_aligned(entry: ManifestEntry) -> bool:
    return entry.kind in ("speech", None) and bool(entry.phonemes)


def clip_seconds(pool: ClipPool, entry: ManifestEntry) -> float:
    """A clip's duration: the manifest's, else measured from its audio."""
    if entry.duration is not None:
        return float(entry.duration)
    return load_clip(pool, entry).shape[0] / pool_rate(pool)


def draw_utterance(task: str, pool: ClipPool, rng: np.random.Generator, *,
                   shortest: float = 0.0, longest: float | None = None, aligned: bool = False,
                   exclude: tuple[str, ...] = ()) -> tuple[ManifestEntry, float]:
    """A speech clip with a transcript (or, `aligned`, with phones) of `shortest` to `longest`
    seconds (default `pool.max_seconds`), and its duration.

    Raises:
        UnisonoError: the pool has no such clip (the message says what to add).
    """
    longest = pool.max_seconds if longest is None else min(longest, pool.max_seconds)
    if aligned:
        clips = role_clips(pool, "speech.aligned", _is_aligned)
        what = (f"speech clips with time-aligned `phonemes` of {shortest:g} s to {longest:g} s "
                "(rows without phones, e.g. LibriTTS, train `tts` and `tts_clone` instead)")
    else:
        clips = role_clips(pool, "speech.utterance", _is_utterance)
        what = f"speech clips with a `transcript` of {shortest:g} s to {longest:g} s"
    candidates = [e for e in clips.between(shortest, longest) if e.id not in exclude]
    require_clips(candidates, task=task, what=what)
    for _ in range(ATTEMPTS):
        entry = candidates[int(rng.integers(len(candidates)))]
        seconds = clip_seconds(pool, entry)
        if shortest - 1e-6 <= seconds <= longest + 1e-6:
            return entry, seconds
    raise UnisonoError(f"task {task}: the speech clips drawn were not {shortest:g}-{longest:g} s "
                       "long; set `duration` in the manifest rows so they can be chosen by length.")


def speakers_with_pairs(pool: ClipPool) -> dict[str, list[ManifestEntry]]:
    """Speaker -> their transcribed speech clips up to `pool.max_seconds`, for speakers with at
    least two (computed once per pool; clips of unknown duration included)."""
    key = ("speech.by_speaker", len(pool.entries), pool.max_seconds)
    if key not in pool.memo:
        groups: dict[str, list[ManifestEntry]] = {}
        for entry in role_clips(pool, "speech.utterance", _is_utterance).between(0.0, pool.max_seconds):
            if entry.speaker:
                groups.setdefault(entry.speaker, []).append(entry)
        pool.memo[key] = {speaker: sorted(entries, key=lambda e: e.id)
                          for speaker, entries in sorted(groups.items()) if len(entries) >= 2}
    return pool.memo[key]


# ----------------------------------------------------------------------------- text to speech


def _cached_speech(task: Task, pool: ClipPool, rng: np.random.Generator, *,
                   aligned: bool = False, shortest: float = 0.0
                   ) -> tuple[ManifestEntry, float, dict[str, str]]:
    entry, seconds = draw_utterance(task.name, pool, rng, shortest=shortest, aligned=aligned)
    voice, speaker = voice_words(entry.gender)
    return entry, seconds, {"voice": voice, "speaker": speaker,
                            "text": quoted_text(entry.transcript)}


def _build_tts(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME["tts"]
    entry, seconds, fields = _cached_speech(task, pool, rng)
    return TaskExample(task=task.name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=seconds, target_clip=entry.id)


def _build_tts_aligned(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME["tts_aligned"]
    entry, seconds, fields = _cached_speech(task, pool, rng, aligned=True)
    phones, phone_seconds = tile_phones(entry.phonemes, seconds)
    return TaskExample(task=task.name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=seconds, target_clip=entry.id, phones=phones,
                       phone_seconds=phone_seconds)


def clone_example(pool: ClipPool, rng: np.random.Generator, *,
                  prompt_masking: bool = False) -> TaskExample:
    """A zero-shot cloning example: the whole cached utterance as target, a reference prefix.

    Args:
        pool: the clips.
        rng: the only source of randomness.
        prompt_masking: Audio-Omni 5.1 prompt masking: 20-75 % of the utterance is masked (its
            end: the reference is a prefix), instead of a 20-40 % reference prefix.

    Returns:
        The example; `reference_seconds` is cut at the nearest phone boundary inside the allowed
        range when the clip has phones, and the instruction carries the whole transcript.
    """
    name = "tts_clone_masked" if prompt_masking else "tts_clone"
    task = TASKS_BY_NAME[name]
    entry, seconds, fields = _cached_speech(task, pool, rng, shortest=MIN_CLONE_SECONDS)
    bounds = ((1.0 - CLONE_MASKED[1], 1.0 - CLONE_MASKED[0]) if prompt_masking
              else CLONE_REFERENCE)
    wanted = float(rng.uniform(*bounds)) * seconds
    reference = phone_cut(entry.phonemes, seconds, wanted, bounds)
    return TaskExample(task=name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=seconds, target_clip=entry.id, reference_seconds=reference)


def _build_tts_clone(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return clone_example(pool, rng)


def _build_tts_clone_masked(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return clone_example(pool, rng, prompt_masking=True)


def speaking_style(rng: np.random.Generator) -> tuple[float, float, list[str]]:
    """A speed and pitch change, not both neutral: (time-stretch rate, semitones, words)."""
    combos = [(speed, pitch) for speed in ("slow", None, "fast") for pitch in ("low", None, "high")
              if speed or pitch]
    speed, pitch = combos[int(rng.integers(len(combos)))]
    rate = float(rng.uniform(*SPEEDS[speed])) if speed else 1.0
    semitones = float(rng.uniform(*PITCHES[pitch])) if pitch else 0.0
    words = [word for word in (speed, f"{pitch}-pitched" if pitch else None) if word]
    return rate, semitones, words


def _build_tts_styled(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME["tts_styled"]
    rate, semitones, words = speaking_style(rng)
    # A slowed-down utterance must still fit in max_seconds.
    entry, _ = draw_utterance(task.name, pool, rng, longest=pool.max_seconds * min(rate, 1.0))
    audio = np.asarray(load_clip(pool, entry), dtype=np.float32)
    audio = pitch_shift(time_stretch(audio, rate), pool_rate(pool), semitones)
    peak = float(np.max(np.abs(audio), initial=0.0))
    if peak > 0.99:
        audio = (audio * np.float32(0.99 / peak)).astype(np.float32)
    gender = {"female": "female voice", "male": "male voice"}.get(entry.gender or "", "voice")
    style = ("a " + ", ".join(words) + " " + gender)
    fields = {"style": style, "text": quoted_text(entry.transcript)}
    return TaskExample(task=task.name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=audio.shape[0] / pool_rate(pool), target=audio)


# ----------------------------------------------------------------------------- speech with sounds


def t2as_mixture(task: str, pool: ClipPool, rng: np.random.Generator
                 ) -> tuple[Mixture, ManifestEntry, str]:
    """Stems "speech" and "event": an utterance and a named sound at an RMS SNR of -10 to 0 dB
    (event over speech), the shorter placed inside the longer at a random onset on a 0.1 s grid.
    Returns the mixture (its `onsets` give both stems' onsets), the utterance's entry and the
    event's name."""
    rate = pool_rate(pool)
    entry, _ = draw_utterance(task, pool, rng)
    speech = normalize_rms(load_clip(pool, entry), float(rng.uniform(*SPEECH_LEVEL_DB)))
    drawn = draw_event(task, pool, rng, max_samples=int(pool.max_seconds * rate),
                       exclude=(entry.id,))
    if drawn is None:
        raise UnisonoError(f"task {task}: no named sound clip fits in {pool.max_seconds:g} s; "
                           "add (shorter) captioned or labelled sfx clips.")
    event = drawn.audio * np.float32(event_gain(speech, drawn.audio,
                                                float(rng.uniform(*T2AS_EVENT_SNR_DB))))
    total = max(speech.shape[0], event.shape[0])
    shorter = "event" if event.shape[0] <= speech.shape[0] else "speech"
    room = total - min(speech.shape[0], event.shape[0])
    onsets = {"speech": 0.0, "event": 0.0}
    onsets[shorter] = int(rng.integers(int(room / rate * 10) + 1)) / 10
    stems = {name: place_event(audio, total, int(round(onsets[name] * rate)), rate,
                               fade_seconds=0.0)
             for name, audio in (("speech", speech), ("event", event))}
    mixture = Mixture(stems, onsets=onsets)
    mixture.fit_peak()
    return mixture, entry, drawn.name


def _build_t2as(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME["t2as"]
    mixture, entry, event = t2as_mixture(task.name, pool, rng)
    voice, speaker = voice_words(entry.gender)
    fields = {"voice": voice, "speaker": speaker, "text": quoted_text(entry.transcript),
              "event": event.strip().rstrip(".")}
    target = mixture.mix()
    return TaskExample(task=task.name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=target.shape[0] / pool_rate(pool), target=target)


# ----------------------------------------------------------------------------- speech in scenes


def _scene_background(task: str, pool: ClipPool, rng: np.random.Generator, *,
                      shortest: int) -> np.ndarray:
    """A voice-free background window of `shortest` samples plus a margin (up to max_seconds),
    at a random level, lightly augmented (reverb, noise, low-pass)."""
    rate = pool_rate(pool)
    clips = role_clips(pool, "speech.background", lambda e: e.kind in SCENE_BACKGROUND_KINDS)
    candidates = clips.between(shortest / rate, 4.0 * pool.max_seconds)
    require_clips(candidates, task=task, what=f"background clips ({'/'.join(SCENE_BACKGROUND_KINDS)})"
                  f" of at least {shortest / rate:.1f} s, as long as the utterance")
    margin = float(rng.uniform(*SCENE_MARGIN_SECONDS))
    samples = min(int(pool.max_seconds * rate), shortest + int(margin * rate))
    for _ in range(ATTEMPTS):
        entry = candidates[int(rng.integers(len(candidates)))]
        audio = random_window(load_clip(pool, entry), samples, rng, rate=rate)
        if audio.shape[0] >= shortest:
            audio = normalize_rms(audio, float(rng.uniform(*SCENE_BACKGROUND_DB)))
            return augment(audio, rate, rng, BACKGROUND_AUGMENT)[0]
    raise UnisonoError(f"task {task}: the background clips drawn were shorter than the utterance "
                       f"({shortest / rate:.1f} s); set `duration` in the manifest rows.")


def speech_scene(task: str, pool: ClipPool, rng: np.random.Generator, *, rewrite: bool = False
                 ) -> tuple[Mixture, list[ManifestEntry]]:
    """The stems of a speech-in-scene edit: "background" and "speech" (and "new": another
    utterance of the same speaker, for a rewrite), the utterances placed at one onset (0.1 s
    grid) at one speech-to-background SNR, all scaled together to peak <= 0.99.

    Tests rebuild an example's stems by calling this with a generator seeded like the builder's.

    Raises:
        UnisonoError: no utterance, background, or (rewrite) speaker with two utterances.
    """
    rate = pool_rate(pool)
    if rewrite:
        groups = speakers_with_pairs(pool)
        if not groups:
            raise UnisonoError(f"task {task} needs a speaker with at least two transcribed speech "
                               f"clips up to {pool.max_seconds:g} s (same `speaker` value) but "
                               "found none; add such clips or set the task's weight to 0.")
        speaker = sorted(groups)[int(rng.integers(len(groups)))]
        first, second = rng.choice(len(groups[speaker]), size=2, replace=False)
        utterances = [groups[speaker][int(first)], groups[speaker][int(second)]]
    else:
        utterances = [draw_utterance(task, pool, rng, longest=pool.max_seconds - 0.1)[0]]
    voices = [np.asarray(load_clip(pool, entry), dtype=np.float32) for entry in utterances]
    longest = max(voice.shape[0] for voice in voices)
    if longest > int(pool.max_seconds * rate):
        raise UnisonoError(f"task {task}: utterance {utterances[0].id!r} is longer than "
                           f"{pool.max_seconds:g} s; set its `duration` in the manifest.")
    background = _scene_background(task, pool, rng, shortest=longest)
    total = background.shape[0]
    onset = int(rng.integers(int((total - longest) / rate * 10) + 1)) / 10
    snr = float(rng.uniform(*SCENE_SPEECH_SNR_DB))
    stems = {"background": background}
    for stem, voice in zip(("speech", "new"), voices, strict=False):
        gain = event_gain(background, voice, snr)  # both utterances at one RMS: the same voice
        stems[stem] = place_event(voice * np.float32(gain), total, int(round(onset * rate)), rate,
                                  fade_seconds=0.0)
    mixture = Mixture(stems, onsets={stem: onset for stem in stems if stem != "background"})
    mixture.fit_peak(*[("background", stem) for stem in mixture.onsets])
    return mixture, utterances


def _scene_example(name: str, pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    task = TASKS_BY_NAME[name]
    mixture, utterances = speech_scene(name, pool, rng, rewrite=name == "speech_rewrite")
    sides = {"speech_insert": (("background",), ("background", "speech")),
             "speech_delete": (("background", "speech"), ("background",)),
             "speech_rewrite": (("background", "speech"), ("background", "new"))}[name]
    voice, speaker = voice_words(utterances[0].gender)
    fields = {"voice": voice, "speaker": speaker, "text": quoted_text(utterances[0].transcript),
              "time": seconds_text(mixture.onsets["speech"])}
    if name == "speech_rewrite":
        fields.update(old=fields["text"], new=quoted_text(utterances[1].transcript))
    target = mixture.mix(*sides[1])
    return TaskExample(task=name, instruction=fill_instruction(_template(task, rng), **fields),
                       duration=target.shape[0] / pool_rate(pool), target=target,
                       source=mixture.mix(*sides[0]))


def _build_insert(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _scene_example("speech_insert", pool, rng)


def _build_delete(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _scene_example("speech_delete", pool, rng)


def _build_rewrite(pool: ClipPool, rng: np.random.Generator) -> TaskExample:
    return _scene_example("speech_rewrite", pool, rng)


# ----------------------------------------------------------------------------- registry


def _speech_task(name: str, description: str, templates: tuple[str, ...], build, *,
                 kinds: tuple[str, ...] = ("speech",), family: str = "generation",
                 cfg: float = 2.0, steps: int = 32, cached: bool = False,
                 aligned: bool = False, phones: bool = False) -> Task:
    return register(Task(name=name, family=family, description=description, kinds=kinds,
                         templates=templates, build=build,
                         recipe=InferenceRecipe(steps=steps, cfg=cfg), time_aligned=aligned,
                         uses_latent_cache=cached, uses_phones=phones))


_SCENE_KINDS = ("speech", *SCENE_BACKGROUND_KINDS)
TASKS_BY_NAME = {
    task.name: task
    for task in (
        # F5-TTS samples 32 steps at CFG 2; style and mixed targets get a little more guidance.
        _speech_task("tts", "text to speech from the words in the instruction", TTS_TEMPLATES,
                     _build_tts, cached=True),
        _speech_task("tts_aligned", "text to speech from time-aligned phones", ALIGNED_TEMPLATES,
                     _build_tts_aligned, cached=True, aligned=True, phones=True),
        _speech_task("tts_clone", "zero-shot TTS continuing a reference prefix in its voice",
                     CLONE_TEMPLATES, _build_tts_clone, cached=True),
        _speech_task("tts_clone_masked", "zero-shot TTS with Audio-Omni prompt masking (20-75 %)",
                     CLONE_TEMPLATES, _build_tts_clone_masked, cached=True),
        _speech_task("tts_styled", "text to speech at a stated speed and pitch",
                     STYLED_TEMPLATES, _build_tts_styled, cfg=2.5),
        _speech_task("t2as", "speech with a sound event, from one instruction", T2AS_TEMPLATES,
                     _build_t2as, kinds=("speech", "sfx", "audio"), cfg=3.0),
        _speech_task("speech_insert", "add an utterance to a recording", INSERT_TEMPLATES,
                     _build_insert, kinds=_SCENE_KINDS, family="editing", cfg=3.0, steps=25,
                     aligned=True),
        _speech_task("speech_delete", "remove the speech from a recording", DELETE_TEMPLATES,
                     _build_delete, kinds=_SCENE_KINDS, family="editing", cfg=3.0, steps=25,
                     aligned=True),
        _speech_task("speech_rewrite", "change what is said, same voice and background",
                     REWRITE_TEMPLATES, _build_rewrite, kinds=_SCENE_KINDS, family="editing",
                     cfg=3.0, steps=25, aligned=True),
    )
}
