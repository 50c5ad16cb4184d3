"""Batch `unisono edit --manifest` and `unisono caption [--manifest]`: resumable, with errors that
name the row and the fix."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from unisono.cli.tasks import read_manifest
from unisono.errors import UnisonoError
from unisono.pipeline import Unisono

RATE = 16000


def _tone(seconds: float, hz: float = 440.0) -> np.ndarray:
    time = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * time)).astype(np.float32)


def _manifest(folder: Path, rows: list[dict]) -> Path:
    path = folder / "manifest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def clips(tmp_path) -> list[Path]:
    paths = []
    for index, seconds in enumerate((0.5, 0.75, 1.0)):
        path = tmp_path / f"clip{index}.wav"
        sf.write(path, _tone(seconds, 300.0 + 100 * index), RATE)
        paths.append(path)
    return paths


def _count_calls(monkeypatch, name: str, answer=None) -> list:
    calls = []
    original = getattr(Unisono, name)

    def counted(self, audio, *args, **kwargs):
        calls.append((str(audio), args, kwargs))
        if answer is not None:
            return answer(audio, *args)
        return original(self, audio, *args, **kwargs)

    monkeypatch.setattr(Unisono, name, counted)
    return calls


def test_batch_edit_resumes(demo_model_dir, run_cli, clips, tmp_path, monkeypatch) -> None:
    calls = _count_calls(monkeypatch, "transform")
    rows = [{"audio": clips[0].name, "instruction": "Remove the siren", "id": "a"},
            {"audio": str(clips[1]), "instruction": "Add a dog barking at 0.2 s"}]
    out = tmp_path / "edited"
    command = ["edit", "--manifest", str(_manifest(tmp_path, rows)), "--out-dir", str(out),
               "--model", str(demo_model_dir), "--steps", "1", "--seed", "5"]
    assert run_cli(command) == 0
    assert sorted(p.name for p in out.iterdir()) == ["00001.wav", "a.wav"]
    assert sf.info(out / "00001.wav").frames == int(0.75 * RATE)  # an edit keeps the length
    assert [c[2]["task"] for c in calls] == ["edit_remove", "edit_add"]
    assert [c[2]["seed"] for c in calls] == [5, 6]
    first = (out / "a.wav").read_bytes()
    rows.append({"audio": clips[2].name, "instruction": "Remove the siren", "id": "c"})
    assert run_cli(command[:2] + [str(_manifest(tmp_path, rows))] + command[3:]) == 0
    assert len(calls) == 3 and calls[-1][0] == str(clips[2]) and calls[-1][2]["seed"] == 7
    assert (out / "a.wav").read_bytes() == first  # finished items are not redone
    assert not list(out.glob("*.partial.wav"))


def test_caption_single_and_resumable_batch(demo_model_dir, run_cli, clips, tmp_path,
                                            monkeypatch, capsys) -> None:
    captions = _count_calls(monkeypatch, "caption", lambda audio: f"caption of {Path(audio).name}")
    answers = _count_calls(monkeypatch, "ask", lambda audio, q: f"{q} -> {Path(audio).name}")
    model = ["--model", str(demo_model_dir)]
    assert run_cli(["caption", str(clips[0]), *model]) == 0
    assert capsys.readouterr().out.strip() == "caption of clip0.wav"
    assert run_cli(["caption", str(clips[0]), "--question", "Loud?", *model]) == 0
    assert capsys.readouterr().out.strip() == "Loud? -> clip0.wav"
    rows = [{"audio": clips[0].name, "id": "x"}, {"audio": clips[1].name, "question": "Why?"}]
    out = tmp_path / "answers.jsonl"
    manifest = _manifest(tmp_path, rows)
    assert run_cli(["caption", "--manifest", str(manifest), "--out", str(out), *model]) == 0
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in written] == ["x", "00001"]
    assert written[0]["caption"] == "caption of clip0.wav"
    assert written[1]["answer"] == "Why? -> clip1.wav" and written[1]["question"] == "Why?"
    # a killed run can leave a half-written line: it is ignored and the item is redone
    out.write_text(out.read_text().splitlines()[0] + "\n" + '{"id": "000')
    before = len(captions) + len(answers)
    assert run_cli(["caption", "--manifest", str(manifest), "--out", str(out), *model]) == 0
    assert len(captions) + len(answers) == before + 1 and answers[-1][0] == str(clips[1])
    assert run_cli(["caption", "--manifest", str(manifest), "--out", str(out), *model]) == 0
    assert len(captions) + len(answers) == before + 1  # everything done: nothing runs


def test_caption_on_a_real_tiny_model(demo_model_dir, run_cli, clips, capsys) -> None:
    assert run_cli(["caption", str(clips[0]), "--model", str(demo_model_dir), "--steps", "2"]) == 0
    text = capsys.readouterr().out.strip()
    model = Unisono.from_pretrained(demo_model_dir)
    assert text == model.caption(str(clips[0]), steps=2)


def test_manifest_errors_name_the_row_and_the_fix(demo_model_dir, run_cli, clips,
                                                  tmp_path) -> None:
    with pytest.raises(UnisonoError, match=r"line 2 has no 'instruction'; every row needs"):
        read_manifest(_manifest(tmp_path, [{"audio": "a.wav", "instruction": "Remove it"},
                                           {"audio": "b.wav"}]), required=("instruction",))
    with pytest.raises(UnisonoError, match="line 1 has no 'audio'"):
        read_manifest(_manifest(tmp_path, [{"path": "a.wav"}]), required=())
    with pytest.raises(UnisonoError, match="repeats id 'a'"):
        read_manifest(_manifest(tmp_path, [{"audio": "x", "id": "a"}, {"audio": "y", "id": "a"}]),
                      required=())
    with pytest.raises(UnisonoError, match="not found"):
        read_manifest(tmp_path / "missing.jsonl", required=())
    (tmp_path / "broken.jsonl").write_text('{"audio": "a.wav"\n')
    with pytest.raises(UnisonoError, match="line 1 is not JSON"):
        read_manifest(tmp_path / "broken.jsonl", required=())
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    manifest = _manifest(tmp_path, [{"audio": clips[0].name, "instruction": "Remove the hum"},
                                    {"audio": "bad.wav", "instruction": "Remove the hum"}])
    out = tmp_path / "edited"
    with pytest.raises(UnisonoError, match=r"item '00001' .*bad.wav.*cannot read audio.*run again"):
        run_cli(["edit", "--manifest", str(manifest), "--out-dir", str(out), "--model",
                 str(demo_model_dir), "--steps", "1"])
    assert [p.name for p in out.iterdir()] == ["00000.wav"]  # the good item is kept
    with pytest.raises(UnisonoError, match="--out-dir"):
        run_cli(["edit", "--manifest", str(manifest), "--model", str(demo_model_dir)])
    with pytest.raises(UnisonoError, match="INPUT INSTRUCTION"):
        run_cli(["edit", str(clips[0]), "--model", str(demo_model_dir)])
