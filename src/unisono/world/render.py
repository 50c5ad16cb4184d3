"""Render a scene spec into a mix, one stem per layer, captions and manifest metadata.

Stems are full-length tracks; the mix is their sum (accumulated in float64, stored as float32), so
stems sum to the mix within float32 rounding. Each layer is scaled to its RMS level in dBFS before
placing; if the mix would clip, every stem is scaled by the same factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unisono.audio import fade, normalize_rms, place, rms
from unisono.world import captions as cap
from unisono.world.scene import SceneSpec

PEAK_LIMIT = 0.95


@dataclass
class RenderedScene:
    spec: SceneSpec
    duration: float
    mix: np.ndarray
    stems: dict[str, np.ndarray]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Layer:
    stem: str
    audio: np.ndarray
    onset: float
    timed_phrase: str | None = None  # short phrase for timed captions
    phrases: list[str] = field(default_factory=list)


def _sum_stems(stems: dict[str, np.ndarray], total: int) -> np.ndarray:
    """The mix: stems accumulated in float64 (so they sum back to it within float32 rounding)."""
    mix = np.zeros(total, dtype=np.float64)
    for track in stems.values():
        mix += track
    return mix.astype(np.float32)


def _tempo_word(tempo: float) -> str:
    return "slow" if tempo < 85 else "fast" if tempo > 125 else "moderate"


def _speed_word(speed: float) -> str | None:
    return "quickly" if speed > 1.05 else "slowly" if speed < 0.95 else None


class SceneRenderer:
    """Turns specs into audio. Stateless apart from caches the source modules keep per process."""

    def render(self, spec: SceneSpec) -> RenderedScene:
        sr = spec.sample_rate
        caption_rng = np.random.default_rng([spec.seed, 1])
        meta: dict[str, Any] = {"events": [], "labels": [], "phonemes": []}
        layers: list[_Layer] = []
        for index, event in enumerate(spec.events):
            layers.append(self._event(event, index, sr, meta, caption_rng))
        for index, speech in enumerate(spec.speech):
            layers.append(self._speech(speech, index, sr, meta))
        for index, music in enumerate(spec.music):
            layers.extend(self._music(music, index, sr, meta))
        for index, singing in enumerate(spec.singing):
            layers.append(self._singing(singing, index, sr, meta))

        end = max([spec.duration] + [lay.onset + lay.audio.shape[0] / sr for lay in layers])
        total = int(round(end * sr))
        duration = total / sr
        stems = {lay.stem: place(lay.audio, total, int(round(lay.onset * sr))) for lay in layers}

        background_phrase = None
        if spec.background is not None:
            stems["background"] = self._background(spec, total, sr)
            background_phrase = self._background_phrase(spec.background.name)
            meta["labels"].append(spec.background.name)

        mix = _sum_stems(stems, total)
        peak = float(np.max(np.abs(mix))) if total else 0.0
        if peak > PEAK_LIMIT:
            scale = np.float32(PEAK_LIMIT / peak)
            stems = {k: (v * scale).astype(np.float32) for k, v in stems.items()}
            mix = _sum_stems(stems, total)

        timed = []
        for lay in layers:
            if lay.timed_phrase:
                offset = min(lay.onset + lay.audio.shape[0] / sr, duration)
                timed.append((round(lay.onset, 2), round(offset, 2), lay.timed_phrase))
        phrases = [(lay.onset, lay.phrases) for lay in layers if lay.phrases]
        meta["captions"] = cap.paraphrases(phrases, timed, background_phrase, caption_rng)
        meta["labels"] = sorted(set(meta["labels"]))
        return RenderedScene(spec=spec, duration=duration, mix=mix, stems=stems, metadata=meta)

    # -- layer renderers ----------------------------------------------------------------------
    def _event(self, event, index: int, sr: int, meta: dict, rng: np.random.Generator) -> _Layer:
        if event.source == "real":
            from unisono.world import real

            clip = real.RealClip(path=event.path, label=event.name, source="", duration=event.duration)
            audio = real.load_real_clip(clip, sample_rate=sr)[: int(round(event.duration * sr))]
            audio = fade(audio, sr, fade_in=0.0, fade_out=0.02)
            verbs: tuple[str, ...] = ()
        else:
            from unisono.world import sfx

            audio = sfx.render_event(event.name, seed=event.seed, duration=event.duration,
                                     sample_rate=sr, variant=event.variant, count=event.count)
            verbs = sfx.EVENT_CLASSES[event.name].verbs
        audio = normalize_rms(audio, event.level_db)
        offset = event.onset + audio.shape[0] / sr
        record = {"class": event.name, "onset": round(event.onset, 4), "offset": round(offset, 4),
                  "source": event.source}
        if event.count is not None:
            record["count"] = event.count
        meta["events"].append(record)
        meta["labels"].append(event.name)
        slug = event.name.replace(" ", "_")
        return _Layer(stem=f"event{index:02d}_{slug}", audio=audio, onset=event.onset,
                      timed_phrase=cap.article(event.name),
                      phrases=cap.event_phrases(event.name, verbs, event.count, rng))

    def _speech(self, layer, index: int, sr: int, meta: dict) -> _Layer:
        from unisono.world import speech

        utterance = speech.synthesize(layer.text, layer.voice, sample_rate=sr, speed=layer.speed)
        voice = speech.VOICES[layer.voice]
        audio = normalize_rms(utterance.audio, layer.level_db)
        if index == 0:
            meta.update(transcript=layer.text, speaker=layer.voice, gender=voice.gender)
            meta["phonemes"] = [{"phoneme": p.symbol, "start": round(layer.onset + p.start, 4),
                                 "end": round(layer.onset + p.end, 4)} for p in utterance.phonemes]
            meta["speed"] = layer.speed
        meta["labels"].extend(["speech", f"{voice.gender} speech"])
        return _Layer(stem=f"speech{index:02d}", audio=audio, onset=layer.onset,
                      timed_phrase=f"{cap.person(voice.gender)} speaking",
                      phrases=cap.speech_phrases(voice.gender, voice.description, layer.text,
                                                 _speed_word(layer.speed)))

    def _music(self, layer, index: int, sr: int, meta: dict) -> list[_Layer]:
        from unisono.world import music

        spec = music.MusicSpec.from_dict(layer.music)
        parts = [music.render_part(part, duration=spec.duration, sample_rate=sr) for part in spec.parts]
        level = rms(np.sum(parts, axis=0))
        gain = 10.0 ** (layer.level_db / 20.0) / level if level > 1e-9 else 1.0
        info = music.describe(spec)
        info["tempo_word"] = info.get("tempo_word") or _tempo_word(spec.tempo)
        if index == 0:
            melodic = [p for p in spec.parts if not p.is_drum]
            lead = melodic[0] if melodic else spec.parts[0]
            meta.update(instrument=lead.instrument, key=spec.key, mode=spec.mode, tempo=spec.tempo)
            meta["notes"] = [{"pitch": n.pitch, "onset": round(layer.onset + n.onset, 4),
                              "offset": round(layer.onset + n.offset, 4), "velocity": n.velocity}
                             for n in lead.notes]
        meta["labels"].extend(["music"] + [p.instrument for p in spec.parts])
        layers = []
        for part_index, (part, audio) in enumerate(zip(spec.parts, parts, strict=True)):
            slug = part.instrument.replace(" ", "_")
            first = part_index == 0
            layers.append(_Layer(
                stem=f"music{index:02d}_{part_index}_{slug}", audio=(audio * gain).astype(np.float32),
                onset=layer.onset,
                timed_phrase=f"{info.get('style', 'music')} music" if first else None,
                phrases=cap.music_phrases(info) if first else []))
        return layers

    def _singing(self, layer, index: int, sr: int, meta: dict) -> _Layer:
        from unisono.world import singing, speech

        notes = [singing.SungNote(**n) for n in layer.notes]
        utterance = singing.sing(notes, layer.voice, sample_rate=sr)
        voice = speech.VOICES[layer.voice]
        audio = normalize_rms(utterance.audio, layer.level_db)
        lyrics = singing.lyrics_text(notes)
        if index == 0:
            meta.update(transcript=utterance.text or lyrics, speaker=layer.voice, gender=voice.gender,
                        key=layer.key)
            meta["notes"] = [{"pitch": n.pitch, "onset": round(layer.onset + n.onset, 4),
                              "offset": round(layer.onset + n.offset, 4), "syllable": n.syllable}
                             for n in notes]
            meta["phonemes"] = [{"phoneme": p.symbol, "start": round(layer.onset + p.start, 4),
                                 "end": round(layer.onset + p.end, 4)} for p in utterance.phonemes]
        meta["labels"].extend(["singing", f"{voice.gender} singing"])
        return _Layer(stem=f"singing{index:02d}", audio=audio, onset=layer.onset,
                      timed_phrase="singing",
                      phrases=cap.singing_phrases(voice.gender, utterance.text or lyrics, layer.key))

    def _background(self, spec: SceneSpec, total: int, sr: int) -> np.ndarray:
        layer = spec.background
        duration = total / sr
        if layer.name == "babble":
            from unisono.world import speech

            audio = speech.babble(np.random.default_rng(layer.seed), duration=duration, sample_rate=sr)
        else:
            from unisono.world import backgrounds

            audio = backgrounds.render_background(layer.name, seed=layer.seed, duration=duration,
                                                  sample_rate=sr)
        audio = np.asarray(audio[:total], dtype=np.float32)
        if audio.shape[0] < total:
            audio = np.pad(audio, (0, total - audio.shape[0]))
        return normalize_rms(audio, layer.level_db)

    @staticmethod
    def _background_phrase(name: str) -> str:
        if name == "babble":
            return "the murmur of a crowd talking"
        from unisono.world import backgrounds

        return backgrounds.BACKGROUNDS[name].description
