"""`unisono retrieve` / `measure_retrieval`: recall over a manifest, the word channel read from a
transcript cache (no Whisper), and clear errors for manifests retrieval cannot use."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from unisono.errors import UnisonoError
from unisono.models.clap import ContrastiveEmbedder
from unisono.refmodels.evaluate import measure_retrieval

pytest.importorskip("transformers")
pytest.importorskip("rapidfuzz")

SENTENCES = ["the milk was bland", "peter touched the plans", "my writer brings a peach"]


@pytest.fixture(scope="module")
def speech_manifest(tmp_path_factory):
    """Three look-alike "speech" clips (the same noise) whose captions differ only in their words."""
    folder = tmp_path_factory.mktemp("retrieve")
    noise = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    lines = []
    for index, sentence in enumerate(SENTENCES):
        sf.write(folder / f"{index}.wav", noise, 16000)
        lines.append(json.dumps({"id": f"c{index}", "path": f"{index}.wav", "duration": 1.0,
                                 "sample_rate": 16000, "kind": "speech",
                                 "captions": [f'A man says: "{sentence}"']}))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "transcripts.json").write_text(json.dumps(SENTENCES))
    return folder


def test_word_channel_finds_what_the_embedder_alone_cannot(speech_manifest) -> None:
    report = measure_retrieval(ContrastiveEmbedder.from_pretrained(),
                               speech_manifest / "manifest.jsonl", words=True,
                               transcripts_cache=speech_manifest / "transcripts.json")
    assert report["audio"]["R@1"] <= 1 / 3 + 1e-9  # identical clips: ties rank against the query
    assert report["words"]["R@1"] == 1.0 and report["words"]["clips"] == 3.0


def test_cli_prints_recall_and_rejects_a_pool_larger_than_the_manifest(speech_manifest,
                                                                      tmp_path) -> None:
    out = tmp_path / "report.json"
    command = [sys.executable, "-m", "unisono", "retrieve", str(speech_manifest / "manifest.jsonl"),
               "--words", "--transcripts", str(speech_manifest / "transcripts.json"),
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["words"]["R@1"] == 1.0
    with pytest.raises(UnisonoError, match="at least 5"):
        measure_retrieval(ContrastiveEmbedder.from_pretrained(), speech_manifest / "manifest.jsonl",
                          n=5)
