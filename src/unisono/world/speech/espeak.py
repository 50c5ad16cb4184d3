"""espeak-ng through its C library (ctypes), with phone timing from the synthesiser's own events.

libespeak-ng emits a PHONEME event (IPA mnemonic + sample position) at the start of every phone
when initialised with espeakINITIALIZE_PHONEME_EVENTS; those give exact phone spans, and are also
the reference the other engines are aligned to (see ``align``). Audio is int16 at 22,050 Hz,
returned as float32 (S,).

libespeak-ng keeps synthesis state between calls (its pitch "flutter" phase), so the same text
said twice in one process differs slightly. Each call therefore runs in a forked child whose
library is freshly initialised: same text and voice, same samples.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import zlib

import numpy as np

from unisono.errors import UnisonoError
from unisono.world.speech.base import SILENCE, Phone, merge_phones, normalize_phone

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
DEFAULT_RATE = 175  # words per minute, espeak-ng's default


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int), ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p), ("id", _EventId),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


class _Engine:
    """The process-wide libespeak-ng instance (the C library holds global state)."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as error:
            raise UnisonoError(
                "libespeak-ng not found: install it with `apt-get install espeak-ng`."
            ) from error
        self.sample_rate = int(self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA))
        if self.sample_rate <= 0:
            raise UnisonoError("espeak-ng failed to initialise: reinstall `espeak-ng-data`.")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _Callback(self._receive)  # kept referenced so ctypes does not free it
        self.lib.espeak_SetSynthCallback(self._callback)

    def _receive(self, wav, count, events) -> int:  # noqa: ANN001 (ctypes pointers)
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                symbol = event.id.string.decode("utf-8", errors="ignore")
                self._events.append((int(event.sample), symbol))
            index += 1
        return 0

    def speak(self, text: str, voice: str, *, rate: int, pitch: int | None = None,
              pitch_range: int | None = None) -> tuple[np.ndarray, list[tuple[int, str]]]:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise UnisonoError(f"espeak-ng has no voice {voice!r}: list them with `espeak-ng --voices=en`.")
        self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PARAM_VOLUME, 100, 0)
        if pitch is not None:
            self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        if pitch_range is not None:
            self.lib.espeak_SetParameter(_PARAM_RANGE, int(pitch_range), 0)
        self._chunks, self._events = [], []
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                       None, None)
        self.lib.espeak_Synchronize()
        if status != 0:
            raise UnisonoError(f"espeak-ng could not synthesise {text!r} (status {status}).")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return (samples.astype(np.float32) / 32768.0), list(self._events)


def _speak_fresh(text: str, voice: str, **settings: int | None) -> tuple[np.ndarray, int, list]:
    """Run ``_Engine().speak`` in a forked child (fresh library state); raise what it raised."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        try:
            os.close(read_end)
            # espeak-ng's breath and roughness noise comes from libc rand(), whose state the child
            # inherits from whatever the parent did before: seed it from the request instead.
            ctypes.CDLL(None).srand(zlib.crc32(f"{voice}|{text}".encode()))
            engine = _Engine()
            audio, events = engine.speak(text, voice, **settings)
            payload = pickle.dumps((audio, engine.sample_rate, events))
        except BaseException as error:  # noqa: BLE001 (handed to the parent)
            payload = pickle.dumps(UnisonoError(str(error)) if not isinstance(error, UnisonoError)
                                   else error)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    if not payload:
        raise UnisonoError(f"espeak-ng crashed while speaking {text!r} with voice {voice!r}.")
    result = pickle.loads(payload)
    if isinstance(result, BaseException):
        raise result
    return result


def events_to_phones(events: list[tuple[int, str]], audio: np.ndarray, sample_rate: int) -> list[Phone]:
    """Turn (start sample, IPA) events into contiguous phones covering ``audio`` (S,).

    espeak-ng emits empty phone events both at pauses and inside words (syllable boundaries);
    an empty span counts as a pause ("_") only if it is quiet (30 dB under the loudest 10 ms),
    otherwise it joins the phone before it.
    """
    total_samples = audio.shape[0]
    frame = max(1, sample_rate // 100)
    usable = audio[: total_samples // frame * frame].astype(np.float64)
    loudest = float(np.max(np.mean(np.square(usable.reshape(-1, frame)), axis=1))) if usable.size else 0.0
    starts = [min(sample, total_samples) for sample, _ in events] + [total_samples]
    phones = [Phone(SILENCE, 0.0, starts[0] / sample_rate)]
    for index, (_, symbol) in enumerate(events):
        begin, end = starts[index], starts[index + 1]
        label = normalize_phone(symbol)
        if label == SILENCE and end > begin:
            level = float(np.mean(np.square(audio[begin:end].astype(np.float64))))
            if level > loudest * 1e-3 and phones[-1].symbol != SILENCE:
                phones[-1].end = end / sample_rate
                continue
        phones.append(Phone(label, begin / sample_rate, end / sample_rate))
    return merge_phones(phones, total_samples / sample_rate)


def synthesize_espeak(text: str, voice: str, *, speed: float = 1.0, pitch: int | None = None,
                      pitch_range: int | None = None) -> tuple[np.ndarray, int, list[Phone]]:
    """Speak ``text`` with an espeak-ng voice name such as ``"en-gb-scotland+f2"``.

    Args:
        text: what to say.
        voice: espeak-ng voice, optionally with a ``+variant``.
        speed: speaking-rate factor (1 is espeak-ng's default 175 words per minute).
        pitch: base pitch 0-100 (None keeps the voice's own).
        pitch_range: intonation range 0-100 (0 is monotone; None keeps the voice's own).

    Returns:
        (audio (S,) float32, sample rate, phones with the synthesiser's timing).
    """
    audio, rate, events = _speak_fresh(text, voice, rate=round(DEFAULT_RATE * speed), pitch=pitch,
                                       pitch_range=pitch_range)
    return audio, rate, events_to_phones(events, audio, rate)


def raw_events(text: str, voice: str, *, speed: float = 1.0, pitch: int | None = None,
               pitch_range: int | None = None) -> tuple[np.ndarray, int, list[tuple[int, str]]]:
    """Audio, rate and the raw (start sample, IPA) events: for callers needing word structure."""
    return _speak_fresh(text, voice, rate=round(DEFAULT_RATE * speed), pitch=pitch,
                        pitch_range=pitch_range)
