"""Every ```python block of docs/api.md runs, in order, against a tiny random model folder."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
TASKS = ["t2a", "t2m", "edit_remove", "edit_add", "se", "sr", "tts", "tts_clone", "svs",
         "caption", "question"]


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a Markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_api_doc_examples_run(make_model_folder, tmp_path, monkeypatch, capsys) -> None:
    import unisono.pipeline

    folder = make_model_folder(TASKS, caption_stream=True, caption_vocab=30522,
                               caption_length=8, content_vocab=92)
    monkeypatch.setattr(unisono.pipeline, "default_model_dir", lambda: folder)
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 9
    called = set()
    namespace: dict = {}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name} block {index + 1}", "exec"), namespace)
        except Exception as error:  # name the failing block
            raise AssertionError(f"docs/api.md block {index + 1} fails:\n{block}") from error
        called |= set(re.findall(r"model\.(\w+)\(", block))
    assert {"generate", "tts", "edit", "enhance", "upsample", "sing", "caption", "ask"} <= called
    for name in ("dog.wav", "edited.wav", "enhanced.wav", "speech.wav", "hum.wav"):
        assert (tmp_path / name).is_file()
    output = capsys.readouterr().out
    assert "[3.0, 5.0]" in output and "empty prompt" in output and "True" in output
