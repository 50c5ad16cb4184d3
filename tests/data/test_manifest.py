"""Manifest schema: exact round trips, compact deterministic lines, errors naming the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unisono.data import (
    Event,
    ManifestEntry,
    Note,
    Phoneme,
    iter_manifest,
    read_manifest,
    resolve_path,
    write_manifest,
)
from unisono.errors import UnisonoError


def full_entry() -> ManifestEntry:
    return ManifestEntry(
        id="scene/0001", path="audio/0001.wav", duration=2.5, sample_rate=16000, kind="scene",
        captions=["a dog barks, then a woman speaks", "dog and speech"],
        transcript="hello there", speaker="piper-joe", gender="male", language="en",
        labels=["dog_bark", "speech"],
        events=[Event("dog_bark", 0.1, 0.6), Event("speech", 1.0, 2.25)],
        phonemes=[Phoneme("h", 1.0, 1.05), Phoneme("ɛ", 1.05, 1.2)],
        instrument="piano", notes=[Note(60, 0.0, 0.5, 100), Note(64, 0.5, 1.0)],
        key="C", mode="major", tempo=120.0, stems={"speech": "stems/speech.wav", "dog": "d.wav"},
        scene="scenes/0001.json", split="train", source="world", extra={"seed": 7, "z": [1, 2]},
    )


def test_round_trip_is_exact_and_byte_identical(tmp_path):
    entries = [full_entry(), ManifestEntry(id="b", path="/abs/b.flac")]
    first = write_manifest(tmp_path / "m.jsonl", entries).read_bytes()
    assert read_manifest(tmp_path / "m.jsonl") == entries
    write_manifest(tmp_path / "m.jsonl", read_manifest(tmp_path / "m.jsonl"))
    assert (tmp_path / "m.jsonl").read_bytes() == first


def test_lines_are_compact_in_schema_order(tmp_path):
    path = write_manifest(tmp_path / "m.jsonl", [
        ManifestEntry(id="a", path="a.wav"),
        ManifestEntry(id="b", path="b.wav", events=[Event("door", 0.0, 1.0)], duration=1.0),
    ])
    assert path.read_text(encoding="utf-8").splitlines() == [
        '{"id":"a","path":"a.wav"}',
        '{"id":"b","path":"b.wav","duration":1.0,"events":[{"class":"door","onset":0.0,"offset":1.0}]}',
    ]
    assert full_entry().to_dict()["phonemes"][1] == {"phoneme": "ɛ", "start": 1.05, "end": 1.2}
    assert "velocity" not in full_entry().to_dict()["notes"][1]


def test_unknown_keys_go_to_extra_without_error(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "x", "path": "x.wav", "mood": "calm", "extra": {"seed": 3}}\n')
    (entry,) = read_manifest(path)
    assert entry.extra == {"mood": "calm", "seed": 3}
    assert entry.to_dict() == {"id": "x", "path": "x.wav", "extra": {"mood": "calm", "seed": 3}}
    assert ManifestEntry.from_dict(entry.to_dict()) == entry


def test_integers_are_accepted_as_times(tmp_path):
    entry = ManifestEntry.from_dict({"id": "x", "path": "x", "duration": 2, "events": [
        {"class": "a", "onset": 0, "offset": 1}]})
    assert entry.duration == 2.0 and isinstance(entry.duration, float)
    assert entry.events == [Event("a", 0.0, 1.0)]


def write_lines(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("bad_line", "pattern"), [
    ('{"id": "c", "path": ', r"line 3: not valid JSON"),
    ('{"id": "c"}', r"line 3: missing required field 'path'"),
    ('["c", "c.wav"]', r"line 3: expected a JSON object"),
    ('{"id": "c", "path": "c.wav", "duration": "long"}', r"line 3: field 'duration' must be a number"),
    ('{"id": "c", "path": "c.wav", "sample_rate": 16000.5}', r"line 3: field 'sample_rate' must be an integer"),
    ('{"id": "c", "path": "c.wav", "kind": "noise"}', r"line 3: field 'kind' must be one of"),
    ('{"id": "c", "path": "c.wav", "gender": "f"}', r"line 3: field 'gender'"),
    ('{"id": "c", "path": "c.wav", "captions": "one"}', r"line 3: field 'captions' must be a list of strings"),
    ('{"id": "c", "path": "c.wav", "events": [{"class": "a", "onset": 1}]}', r"line 3: field 'events'"),
    ('{"id": "c", "path": "c.wav", "notes": [{"pitch": 60.5, "onset": 0, "offset": 1}]}', r"line 3: field 'notes'"),
    ('{"id": "c", "path": "c.wav", "tempo": true}', r"line 3: field 'tempo' must be a number"),
    ('{"id": "", "path": "c.wav"}', r"line 3: 'id' is empty"),
    ('{"id": "a", "path": "c.wav"}', r"line 3: duplicate id 'a' \(first on line 1\)"),
])
def test_bad_line_raises_naming_the_line(tmp_path, bad_line, pattern):
    path = write_lines(tmp_path, '{"id": "a", "path": "a.wav"}', "", bad_line)
    with pytest.raises(UnisonoError, match=pattern):
        read_manifest(path)


def test_non_utf8_line_names_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"id": "a", "path": "a.wav"}\n{"id": "\xff", "path": "b"}\n')
    with pytest.raises(UnisonoError, match="line 2: not UTF-8"):
        read_manifest(path)


def test_iter_manifest_streams_entries_before_a_later_bad_line(tmp_path):
    path = write_lines(tmp_path, '{"id": "a", "path": "a.wav"}', "{oops")
    stream = iter_manifest(path)
    assert next(stream).id == "a"
    with pytest.raises(UnisonoError, match="line 2"):
        next(stream)


def test_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(UnisonoError, match="unisono data import"):
        read_manifest(tmp_path / "nope.jsonl")


def test_resolve_path_relative_to_the_manifest_folder_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "sets" / "m.jsonl"
    entry = ManifestEntry(id="a", path="audio/a.wav", stems={"x": "../stems/x.wav"})
    assert resolve_path(entry, manifest) == tmp_path / "sets" / "audio" / "a.wav"
    assert resolve_path(entry.stems["x"], manifest) == tmp_path / "sets" / ".." / "stems" / "x.wav"
    assert resolve_path(ManifestEntry(id="b", path="/data/b.wav"), manifest) == Path("/data/b.wav")
    assert resolve_path(entry, "m.jsonl") == tmp_path / "audio" / "a.wav"


def test_failed_write_leaves_the_old_manifest_and_no_temp_file(tmp_path):
    path = write_manifest(tmp_path / "m.jsonl", [ManifestEntry(id="a", path="a.wav")])
    before = path.read_bytes()
    bad = [ManifestEntry(id="b", path="b.wav"), ManifestEntry(id="c", path="c.wav",
                                                               duration=float("nan"))]
    with pytest.raises(UnisonoError, match="'c' cannot be written"):
        write_manifest(path, bad)
    with pytest.raises(UnisonoError, match="duplicate id 'a'"):
        write_manifest(path, [ManifestEntry(id="a", path="1"), ManifestEntry(id="a", path="2")])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jsonl"]


def test_written_lines_are_valid_json_with_unicode_kept(tmp_path):
    path = write_manifest(tmp_path / "m.jsonl", [full_entry()])
    text = path.read_text(encoding="utf-8")
    assert "ɛ" in text and text.count("\n") == 1
    assert json.loads(text)["events"][0] == {"class": "dog_bark", "onset": 0.1, "offset": 0.6}
