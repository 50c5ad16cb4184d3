"""`check_manifest` reports every problem of every row and file, and carries on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from unisono.data import ManifestEntry, check_manifest, write_manifest
from unisono.data.manifest import entry_to_line


def line(**fields) -> str:
    return entry_to_line(ManifestEntry.from_dict(fields))


def build_bad_manifest(root: Path, tone) -> Path:
    """One good row, then one row per kind of problem (two for 'empty' and 'missing_file')."""
    tone(root / "good.wav", 0.2, 16000)
    tone(root / "short.wav", 0.2, 16000)
    tone(root / "rate.wav", 0.2, 22050)
    sf.write(str(root / "silent.wav"), np.zeros(3200, dtype=np.float32), 16000)
    nan = np.full(3200, 0.1, dtype=np.float32)
    nan[100] = np.nan
    sf.write(str(root / "nan.wav"), nan, 16000, subtype="FLOAT")
    sf.write(str(root / "zero_frames.wav"), np.zeros(0, dtype=np.float32), 16000)
    (root / "zero_bytes.wav").write_bytes(b"")
    (root / "garbage.wav").write_bytes(b"RIFF but not really a wav file at all")
    rows = [
        line(id="good", path="good.wav", duration=0.2, sample_rate=16000,
             events=[{"class": "x", "onset": 0.0, "offset": 0.2}]),
        line(id="gone", path="gone.wav"),
        '{"id": "broken", "path": ',
        '{"id": "nopath"}',
        '{"id": "typed", "path": "good.wav", "duration": "0.2"}',
        line(id="good", path="good.wav"),
        line(id="silent", path="silent.wav"),
        line(id="nan", path="nan.wav"),
        line(id="zero_frames", path="zero_frames.wav"),
        line(id="zero_bytes", path="zero_bytes.wav"),
        line(id="garbage", path="garbage.wav"),
        line(id="long", path="short.wav", duration=0.5),
        line(id="rate", path="rate.wav", sample_rate=16000, duration=0.2),
        line(id="late_event", path="short.wav", events=[{"class": "x", "onset": 0.1, "offset": 0.4}]),
        line(id="phon", path="short.wav", phonemes=[{"phoneme": "a", "start": 0.0, "end": 0.1},
                                                   {"phoneme": "b", "start": 0.05, "end": 0.15}]),
        line(id="stem", path="good.wav", stems={"voice": "no_such_stem.wav"}),
    ]
    manifest = root / "m.jsonl"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest


def test_reports_every_problem_without_stopping(tmp_path, tone):
    report = check_manifest(build_bad_manifest(tmp_path, tone))
    assert report.rows == 16
    assert report.counts == {
        "bad_type": 1, "duplicate_id": 1, "duration_mismatch": 1, "empty": 2, "event_outside": 1,
        "malformed": 1, "missing_field": 1, "missing_file": 2, "nan": 1,
        "phonemes_not_monotone": 1, "sample_rate_mismatch": 1, "silent": 1, "unreadable": 1,
    }
    assert not report.ok
    found = {(p.line, p.kind) for p in report.problems}
    assert {(2, "missing_file"), (3, "malformed"), (4, "missing_field"), (5, "bad_type"),
            (6, "duplicate_id"), (7, "silent"), (8, "nan"), (9, "empty"), (10, "empty"),
            (11, "unreadable"), (12, "duration_mismatch"), (13, "sample_rate_mismatch"),
            (14, "event_outside"), (15, "phonemes_not_monotone"), (16, "missing_file")} == found
    by_line = {p.line: p for p in report.problems}
    assert by_line[4].id == "nopath" and "'path'" in by_line[4].message
    assert by_line[6].message == "id 'good' already used on line 1"
    assert "0.500 s, file is 0.200 s" in by_line[12].message
    assert "16000 Hz, file is 22050 Hz" in by_line[13].message
    assert "no_such_stem.wav" in by_line[16].message
    assert report.bad_rows == 15
    assert report.summary().endswith(f"16 rows, {len(report.problems)} problems on 15 rows (" +
                                     ", ".join(f"{k}: {v}" for k, v in report.counts.items()) + ")")


def test_without_audio_only_rows_labels_and_file_existence_are_checked(tmp_path, tone):
    report = check_manifest(build_bad_manifest(tmp_path, tone), audio=False)
    assert report.counts == {"bad_type": 1, "duplicate_id": 1, "malformed": 1,
                             "missing_field": 1, "missing_file": 2, "phonemes_not_monotone": 1}
    # The late event cannot be judged without a duration: the manifest gives none for it.


def test_event_times_use_the_manifest_duration_without_audio(tmp_path):
    manifest = tmp_path / "m.jsonl"
    (tmp_path / "a.wav").write_bytes(b"unused")
    write_manifest(manifest, [ManifestEntry.from_dict({
        "id": "a", "path": "a.wav", "duration": 1.0,
        "events": [{"class": "x", "onset": 0.5, "offset": 1.0005},
                   {"class": "y", "onset": -0.5, "offset": 0.2},
                   {"class": "z", "onset": 0.6, "offset": 0.4}],
        "notes": [{"pitch": 60, "onset": 0.9, "offset": 1.5}]})])
    report = check_manifest(manifest, audio=False)
    assert [p.message.split(" at ")[0] for p in report.problems] == [
        "event 'y'", "event 'z'", "note 60"]


def test_good_manifest_is_ok_and_report_serialises(tmp_path, tone):
    tone(tmp_path / "a.wav", 0.2, 16000)
    tone(tmp_path / "b.flac", 0.3, 48000)
    manifest = write_manifest(tmp_path / "m.jsonl", [
        ManifestEntry(id="a", path="a.wav", duration=0.2, sample_rate=16000,
                      phonemes=[], events=[]),
        ManifestEntry(id="b", path=str(tmp_path / "b.flac"), duration=0.301, sample_rate=48000),
    ])
    report = check_manifest(manifest)
    assert report.ok and report.rows == 2 and report.counts == {}
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["problems"] == []
