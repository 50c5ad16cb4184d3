"""What Unisono writes gets the user's umask modes, not the owner-only modes of temporary files."""

import os
import stat

import pytest
import torch

from unisono.config import save_config
from unisono.files import save_tensors
from unisono.models.pretrained import save_model_folder
from unisono.refmodels.cache import staged_folder
from unisono.training import save_checkpoint


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_written_files_and_folders_follow_the_umask(tmp_path, mask) -> None:
    previous = os.umask(mask)
    try:
        tensors = {"w": torch.zeros(2)}
        save_tensors(tensors, tmp_path / "t.safetensors")
        save_config({"a": 1}, tmp_path / "c.yaml")
        save_model_folder(tmp_path / "model", config={"a": 1}, state=tensors, ema_state=tensors)
        step = save_checkpoint(tmp_path / "ckpt", 3, trainer_state={"step": 3},
                               write_files=lambda d: save_tensors(tensors, d / "m.safetensors"))
        with staged_folder(tmp_path / "cache") as staging:
            (staging / "x.npy").write_bytes(b"x")
    finally:
        os.umask(previous)
    files = [tmp_path / "t.safetensors", tmp_path / "c.yaml", *(tmp_path / "model").iterdir(),
             *step.iterdir(), tmp_path / "cache" / "x.npy"]
    assert len(files) == 8
    for path in files:
        assert _mode(path) == 0o666 & ~mask, path
    for folder in (step, tmp_path / "cache", tmp_path / "model"):
        assert _mode(folder) == 0o777 & ~mask, folder


def test_half_model_folders_keep_integer_tensors_and_round_floats(tmp_path) -> None:
    from safetensors.torch import load_file

    state = {"w": torch.tensor([1.0, 1.0 + 2.0**-12, 3.0]), "count": torch.tensor([7, 8])}
    save_model_folder(tmp_path, config={"a": 1}, state=state, ema_state=state, half=True)
    for name in ("model.safetensors", "ema.safetensors"):
        saved = load_file(str(tmp_path / name))
        assert saved["w"].dtype == torch.float16 and saved["count"].dtype == torch.int64
        # 1 + 2^-12 is below float16's resolution at 1 (2^-10): it rounds to 1.
        assert saved["w"].tolist() == [1.0, 1.0, 3.0] and saved["count"].tolist() == [7, 8]
    assert not list(tmp_path.glob(".*.partial"))
    assert state["w"].dtype == torch.float32  # the caller's tensors are untouched
