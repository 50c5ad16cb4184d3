"""Speech tasks: cloning masks, aligned phones, exact scene edits, styles, and users' rows.

One world render (3 speech, 3 singing, 3 sfx clips) and one latent cache serve this module and
test_singing_task.py (`shared_parts`). The "user" manifest points at the same audio files with
LibriTTS-like rows (path, transcript, speaker: no kind, duration, gender or phones), plus
folder-import-like sound rows and singing rows without phones or notes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import librosa
import numpy as np
import pytest
import torch

from unisono.audio import rms
from unisono.codec_files import load_codec
from unisono.data.clips import load_clip, pool_from_manifests
from unisono.data.manifest import Phoneme
from unisono.errors import UnisonoError
from unisono.models.text_encoder import TextEncoder
from unisono.tasks import TAG_REFERENCE, get_task
from unisono.tasks.speech import speaking_style, speech_scene, t2as_mixture, tile_phones
from unisono.train import GeneratorDataConfig
from unisono.train.batches import BatchAssembler
from unisono.train.latents import LatentCache
from unisono.world.writer import render_world

SPEECH_TASKS = ("tts", "tts_aligned", "tts_clone", "tts_clone_masked", "tts_styled", "t2as",
                "speech_insert", "speech_delete")
_SHARED: dict[str, SimpleNamespace] = {}


def _user_manifest(world_manifest: Path, out: Path) -> Path:
    rows = []
    for line in world_manifest.read_text().splitlines():
        row = json.loads(line)
        path = str((world_manifest.parent / row["path"]).resolve())
        index = len(rows)
        if row["kind"] == "speech":
            rows.append({"id": f"user-{index}", "path": path, "transcript": row["transcript"],
                         "speaker": "reader-1"})
        elif row["kind"] == "sfx":
            rows.append({"id": f"user-{index}", "path": path, "kind": "audio",
                         "labels": [row["labels"][0]]})
        else:
            rows.append({"id": f"user-{index}", "path": path, "kind": "singing",
                         "transcript": row["transcript"], "speaker": "singer-1"})
    out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return out


def shared_parts(tmp_path_factory) -> SimpleNamespace:
    """World and user pools, codec, text encoder, latent cache and assembler (built once)."""
    if "parts" not in _SHARED:
        torch.set_num_threads(1)
        root = tmp_path_factory.mktemp("speech_world")
        manifest = render_world(root / "world", n=9, seed=21, split="train",
                                kinds="speech,singing,sfx", write_stems=False, progress=False)
        user_manifest = _user_manifest(manifest, root / "user.jsonl")
        codec = load_codec(None)
        world = pool_from_manifests([manifest], sample_rate=codec.sample_rate, max_seconds=10.0)
        user = pool_from_manifests([user_manifest], sample_rate=codec.sample_rate,
                                   max_seconds=10.0)
        cache = LatentCache(root / "latents", codec)
        cache.build([(e, pool.paths[e.id]) for pool in (world, user) for e in pool.entries],
                    show_progress=False)
        assembler = BatchAssembler(config=GeneratorDataConfig(instruction_dropout=0.0),
                                   codec=codec, text_encoder=TextEncoder.from_pretrained(),
                                   cache=cache)
        entries = {e.id: e for pool in (world, user) for e in pool.entries}
        _SHARED["parts"] = SimpleNamespace(world=world, user=user, cache=cache, codec=codec,
                                           assembler=assembler, entries=entries,
                                           frame_rate=codec.sample_rate / codec.hop)
    return _SHARED["parts"]


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> SimpleNamespace:
    return shared_parts(tmp_path_factory)


def _examples(name: str, pool, count: int, seed: int = 0) -> list:
    return [get_task(name).build(pool, np.random.default_rng([seed, i])) for i in range(count)]


def _quoted(transcript: str) -> str:
    return '"' + " ".join(transcript.split()).replace('"', "'")


@pytest.mark.parametrize(("name", "low", "high"),
                         [("tts_clone", 0.2, 0.4), ("tts_clone_masked", 0.25, 0.8)])
def test_clone_loss_mask_is_false_on_exactly_the_reference_frames(parts, name, low, high) -> None:
    examples = _examples(name, parts.world, 4)
    batch = parts.assembler.assemble(examples, step=0, seed=0)
    frames = batch.latent.shape[2]
    for row, example in enumerate(examples):
        entry = parts.entries[example.target_clip]
        length = parts.cache[example.target_clip].shape[1]
        reference = int(round(example.reference_seconds * parts.frame_rate))
        assert 0 < reference < length
        assert low - 1e-9 <= example.reference_seconds / example.duration <= high + 1e-9
        assert example.reference_seconds in {p.end for p in entry.phonemes}  # a phone boundary
        assert _quoted(entry.transcript) in example.instruction  # the whole transcript
        expected = torch.zeros(frames, dtype=torch.bool)
        expected[reference:length] = True
        assert torch.equal(batch.loss_mask[row], expected)
        assert torch.all(batch.task_tag[row, :reference] == TAG_REFERENCE)
        assert torch.all(batch.task_tag[row, reference:] == 0)
        assert torch.equal(batch.source_latent[row, :, :reference], batch.latent[row, :, :reference])
        assert not batch.source_latent[row, :, reference:].any()


def test_aligned_phones_tile_the_target(parts) -> None:
    examples = _examples("tts_aligned", parts.world, 3)
    batch = parts.assembler.assemble(examples, step=0, seed=0)
    for row, example in enumerate(examples):
        entry = parts.entries[example.target_clip]
        length = parts.cache[example.target_clip].shape[1]
        assert abs(int(batch.content_frames[row].sum()) - length) <= 1
        assert sum(example.phone_seconds) == pytest.approx(example.duration, abs=1e-6)
        spoken = [p.phoneme for p in entry.phonemes if p.phoneme != "_"]
        assert [p for p in example.phones if p != "_"] == spoken
        starts = np.cumsum([0.0, *example.phone_seconds])[:-1]
        first = next(i for i, p in enumerate(example.phones) if p != "_")
        manifest_first = next(p.start for p in entry.phonemes if p.phoneme != "_")
        assert starts[first] == pytest.approx(manifest_first, abs=1e-6)
        assert (batch.content_symbols[row, : len(example.phones)] > 1).all()  # none unknown
    assert "saying" not in " ".join(e.instruction for e in examples)  # words come as phones


def test_tile_phones_fills_gaps_with_pauses_and_clips_overlaps() -> None:
    phones = [Phoneme("a", 0.1, 0.2), Phoneme("_", 0.2, 0.25), Phoneme("b", 0.3, 0.4)]
    symbols, seconds = tile_phones(phones, 0.5)
    assert symbols == ["_", "a", "_", "b", "_"]
    np.testing.assert_allclose(seconds, [0.1] * 5, atol=1e-12)
    # Overlaps are clipped; gaps of 5 ms or less join the next phone (or the last one).
    symbols, seconds = tile_phones([Phoneme("a", 0.0, 0.12), Phoneme("b", 0.1, 0.198)], 0.2)
    assert symbols == ["a", "b"]
    np.testing.assert_allclose(seconds, [0.12, 0.08], atol=1e-12)
    symbols, seconds = tile_phones([Phoneme("a", 0.0, 0.1), Phoneme("b", 0.103, 0.15)], 0.3)
    assert symbols == ["a", "b", "_"]
    np.testing.assert_allclose(seconds, [0.1, 0.05, 0.15], atol=1e-12)


def test_plain_tts_carries_the_words_and_no_phones(parts) -> None:
    examples = _examples("tts", parts.world, 3)
    batch = parts.assembler.assemble(examples, step=0, seed=0)
    assert batch.content_symbols is None and not batch.source_latent.any()
    for row, example in enumerate(examples):
        entry = parts.entries[example.target_clip]
        assert _quoted(entry.transcript) in example.instruction
        assert re.search(r"\b(male|man)\b", example.instruction)  # the fixture's voices are male
        assert torch.equal(batch.latent[row, :, : parts.cache[entry.id].shape[1]],
                           parts.cache[entry.id])


def test_insert_and_delete_are_exact_inverses(parts) -> None:
    for index in range(3):
        insert = get_task("speech_insert").build(parts.world, np.random.default_rng([3, index]))
        delete = get_task("speech_delete").build(parts.world, np.random.default_rng([3, index]))
        mixture, utterances = speech_scene("speech_insert", parts.world,
                                           np.random.default_rng([3, index]))
        np.testing.assert_allclose(insert.source + mixture.stems["speech"], insert.target,
                                   atol=1e-6, rtol=0)
        np.testing.assert_array_equal(delete.source, insert.target)
        np.testing.assert_array_equal(delete.target, insert.source)
        assert rms(mixture.stems["speech"]) > 1e-2 and rms(insert.source) > 1e-4
        assert _quoted(utterances[0].transcript) in insert.instruction
        peak = max(np.abs(insert.target).max(), np.abs(insert.source).max())
        assert peak <= 0.99 + 1e-6
    batch = parts.assembler.assemble([insert], step=0, seed=0)
    assert torch.all(batch.task_tag[0, : batch.latent.shape[2]] == 1)


def test_rewrite_swaps_the_utterance_for_another_of_the_same_speaker(parts) -> None:
    example = get_task("speech_rewrite").build(parts.user, np.random.default_rng(4))
    mixture, (old, new) = speech_scene("speech_rewrite", parts.user, np.random.default_rng(4),
                                       rewrite=True)
    assert old.id != new.id and old.speaker == new.speaker
    np.testing.assert_allclose(example.source - mixture.stems["speech"],
                               example.target - mixture.stems["new"], atol=1e-6, rtol=0)
    assert _quoted(new.transcript) in example.instruction
    onset = int(round(mixture.onsets["speech"] * 16000))
    levels = [rms(mixture.stems[stem][onset : onset + load_clip(parts.user, entry).shape[0]])
              for stem, entry in (("speech", old), ("new", new))]
    assert levels[0] == pytest.approx(levels[1], rel=1e-4)  # one voice, one level
    with pytest.raises(UnisonoError, match="at least two"):
        get_task("speech_rewrite").build(parts.world, np.random.default_rng(0))  # 3 speakers


def test_t2as_mixes_speech_and_a_named_event_at_the_drawn_snr(parts) -> None:
    for index in range(3):
        example = get_task("t2as").build(parts.world, np.random.default_rng([5, index]))
        mixture, entry, event = t2as_mixture("t2as", parts.world, np.random.default_rng([5, index]))
        np.testing.assert_allclose(mixture.stems["speech"] + mixture.stems["event"],
                                   example.target, atol=1e-6, rtol=0)
        assert _quoted(entry.transcript) in example.instruction and event in example.instruction
        onset = int(round(mixture.onsets["speech"] * 16000))
        speech = mixture.stems["speech"][onset : onset + load_clip(parts.world, entry).shape[0]]
        sounding = np.flatnonzero(mixture.stems["event"])  # trimmed and faded: no zero edges
        event_level = rms(mixture.stems["event"][sounding[0] : sounding[-1] + 1])
        assert -10.0 - 1e-3 <= 20 * np.log10(event_level / rms(speech)) <= 1e-3


def _median_f0(audio: np.ndarray, rate: int) -> float:
    f0 = librosa.yin(audio, fmin=60, fmax=500, sr=rate, frame_length=1024)
    energy = librosa.feature.rms(y=audio, frame_length=1024, hop_length=256)[0]
    count = min(f0.shape[0], energy.shape[0])
    return float(np.median(f0[:count][energy[:count] > 0.3 * energy[:count].max()]))


def test_styled_speech_has_the_stated_speed_and_pitch(parts) -> None:
    seen = set()
    for index in range(8):
        rate, semitones, words = speaking_style(np.random.default_rng([6, index]))
        example = get_task("tts_styled").build(parts.world, np.random.default_rng([6, index]))
        entry = next(e for e in parts.world.entries
                     if e.kind == "speech" and _quoted(e.transcript) in example.instruction)
        original = np.asarray(load_clip(parts.world, entry))
        assert all(word in example.instruction for word in words)
        assert abs(example.target.shape[0] - original.shape[0] / rate) <= 1
        assert ("fast" in words) == (rate > 1.0) and ("slow" in words) == (rate < 1.0)
        if semitones:
            shift = 12 * np.log2(_median_f0(example.target, 16000) / _median_f0(original, 16000))
            assert abs(shift - semitones) < 1.0, (words, shift, semitones)
        seen.update(words)
    assert seen & {"slow", "fast"} and seen & {"low-pitched", "high-pitched"}


@pytest.mark.parametrize("name", [*SPEECH_TASKS, "speech_rewrite"])
def test_same_seed_gives_the_same_example(parts, name) -> None:
    pool = parts.user if name == "speech_rewrite" else parts.world
    first, again = (get_task(name).build(pool, np.random.default_rng(11)) for _ in range(2))
    assert first.instruction == again.instruction and first.target_clip == again.target_clip
    assert first.reference_seconds == again.reference_seconds and first.phones == again.phones
    for side in ("target", "source"):
        a, b = getattr(first, side), getattr(again, side)
        assert (a is None and b is None) or np.array_equal(a, b)


@pytest.mark.parametrize("name", ["tts", "tts_clone", "tts_clone_masked", "tts_styled", "t2as",
                                  "speech_insert", "speech_delete", "speech_rewrite"])
def test_users_rows_without_phones_train_every_speech_task_but_aligned(parts, name) -> None:
    examples = _examples(name, parts.user, 2, seed=9)
    batch = parts.assembler.assemble(examples, step=0, seed=0)
    assert batch.loss_mask.any()
    for example in examples:
        assert "espeak" not in example.instruction and "reader-1" not in example.instruction
        if name in ("tts", "tts_clone", "tts_clone_masked"):
            entry = parts.entries[example.target_clip]
            assert entry.phonemes == [] and entry.duration is None
            assert example.duration == pytest.approx(
                load_clip(parts.user, entry).shape[0] / 16000)
            assert _quoted(entry.transcript) in example.instruction
            if name == "tts":  # no gender in the rows: the voice stays unnamed
                assert re.search(r"\b(someone|a voice)\b", example.instruction, re.IGNORECASE)
        if name == "tts_clone":
            assert 0.2 <= example.reference_seconds / example.duration <= 0.4


def test_instructions_carry_the_words_and_recipes_follow_the_brief() -> None:
    for name in ("tts", "tts_clone", "tts_clone_masked", "tts_styled", "t2as", "speech_insert"):
        assert all("{text}" in template for template in get_task(name).templates), name
    assert all("{new}" in template for template in get_task("speech_rewrite").templates)
    for name in SPEECH_TASKS:
        task = get_task(name)
        assert len(set(task.templates)) >= 10
        low, high = (3.0, 3.0) if name.startswith("speech_") else (2.0, 3.5)
        assert low <= task.recipe.cfg <= high and 25 <= task.recipe.steps <= 32


def test_aligned_tts_without_phones_fails_clearly(parts) -> None:
    with pytest.raises(UnisonoError, match="phonemes.*tts_clone"):
        get_task("tts_aligned").build(parts.user, np.random.default_rng(0))
