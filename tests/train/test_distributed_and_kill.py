"""Under torchrun and under SIGKILL: DDP on CPU (gloo, 2 processes) matches one process with the
same global batch, and a killed run resumes to the uninterrupted run's exact weights."""

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file
from train_configs import read_rows, tiny_train_config

from unisono.config import save_config

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_config(manifest, out, tmp_path, name, val_manifest=None, strategy="ddp", **run):
    config = tiny_train_config(manifest, out, strategy=strategy, **run)
    if val_manifest is not None:
        config.data.val_manifests = [str(val_manifest)]
    config.data.length_mode = "fixed"  # equal frames per row: mean of means = global mean
    config.data.fixed_seconds = 3.0
    config.data.latent_cache = str(tmp_path / "latents")
    path = tmp_path / f"{name}.yaml"
    save_config(config, path)
    return path


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    env.pop("WORLD_SIZE", None)
    return env


def test_ddp_on_two_cpu_processes_equals_one_process_with_accumulation(
        world_manifest, val_manifest, tmp_path):
    # Both validate at step 1, which is no logging step (log_every 2): held-out losses of the
    # EMA weights, computed by process 0, logged alike.
    validate = {"val_every": 1, "log_every": 2}
    single = _write_config(world_manifest, tmp_path / "single", tmp_path, "single",
                           max_steps=2, grad_accumulation=2, val_manifest=val_manifest, **validate)
    double = _write_config(world_manifest, tmp_path / "ddp", tmp_path, "ddp", max_steps=2,
                           val_manifest=val_manifest, **validate)
    subprocess.run([sys.executable, "-m", "unisono", "train", str(single)], check=True,
                   env=_env(), capture_output=True, timeout=600)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         f"--master_port={_free_port()}", "-m", "unisono", "train", str(double)],
        env=_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    a = load_file(str(tmp_path / "single" / "final" / "generator" / "model.safetensors"))
    b = load_file(str(tmp_path / "ddp" / "final" / "generator" / "model.safetensors"))
    changed = 0
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6, msg=key)
        changed += int(not torch.equal(a[key], torch.zeros_like(a[key])))
    assert changed > 10
    rows_a, rows_b = read_rows(tmp_path / "single"), read_rows(tmp_path / "ddp")
    assert len(rows_a) == len(rows_b) == 2  # one row per logged step (the header is not a row)
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        assert float(row_a["val/t2a"]) == pytest.approx(float(row_b["val/t2a"]), rel=1e-5)
        assert float(row_a["val/t2a"]) > 0


def test_sigkill_mid_run_then_resume_matches_the_uninterrupted_run(world_manifest, tmp_path):
    straight = _write_config(world_manifest, tmp_path / "straight", tmp_path, "straight",
                             max_steps=8, checkpoint_every=2)
    killed = _write_config(world_manifest, tmp_path / "killed", tmp_path, "killed",
                           max_steps=8, checkpoint_every=2)
    subprocess.run([sys.executable, "-m", "unisono", "train", str(straight)], check=True,
                   env=_env(), capture_output=True, timeout=600)
    process = subprocess.Popen([sys.executable, "-m", "unisono", "train", str(killed)],
                               env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = tmp_path / "killed" / "checkpoints" / "step-00000002"
    deadline = time.time() + 600
    while not first.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert first.exists() and not (tmp_path / "killed" / "final").exists()
    subprocess.run([sys.executable, "-m", "unisono", "train", str(killed)], check=True,
                   env=_env(), capture_output=True, timeout=600)
    for name in ("model.safetensors", "ema.safetensors"):
        a = load_file(str(tmp_path / "straight" / "final" / "generator" / name))
        b = load_file(str(tmp_path / "killed" / "final" / "generator" / name))
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
    assert ((tmp_path / "straight" / "metrics.csv").read_text()
            == (tmp_path / "killed" / "metrics.csv").read_text())


def _torchrun(config) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         f"--master_port={_free_port()}", "-m", "unisono", "train", str(config)],
        env=_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_fsdp_equals_ddp_and_resumes_exactly(world_manifest, val_manifest, tmp_path):
    """FSDP2 on two CPU processes trains what DDP trains (weights, EMA, held-out losses), and a
    run resumed from its step-2 checkpoint (sharded optimizer state gathered whole, then split
    again) ends where the uninterrupted run does."""
    common = {"max_steps": 4, "checkpoint_every": 2, "val_manifest": val_manifest}
    ddp = _write_config(world_manifest, tmp_path / "ddp", tmp_path, "ddp", **common)
    fsdp = _write_config(world_manifest, tmp_path / "fsdp", tmp_path, "fsdp", strategy="fsdp",
                         **common)
    resumed = _write_config(world_manifest, tmp_path / "resumed", tmp_path, "resumed",
                            strategy="fsdp", **common)
    _torchrun(ddp)
    _torchrun(fsdp)
    shutil.copytree(tmp_path / "fsdp", tmp_path / "resumed")
    shutil.rmtree(tmp_path / "resumed" / "checkpoints" / "step-00000004")
    shutil.rmtree(tmp_path / "resumed" / "final")
    _torchrun(resumed)
    for name in ("model.safetensors", "ema.safetensors"):
        a = load_file(str(tmp_path / "ddp" / "final" / "generator" / name))
        for run in ("fsdp", "resumed"):
            b = load_file(str(tmp_path / run / "final" / "generator" / name))
            assert a.keys() == b.keys()
            for key in a:
                torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6,
                                           msg=f"{run} {name} {key}")
    rows = {run: [row for row in read_rows(tmp_path / run) if not math.isnan(float(row["val/t2a"]))]
            for run in ("ddp", "fsdp", "resumed")}
    assert [r["step"] for r in rows["ddp"]] == ["2", "4"]
    for run in ("fsdp", "resumed"):
        for a, b in zip(rows["ddp"], rows[run], strict=True):
            assert float(b["val/t2a"]) == pytest.approx(float(a["val/t2a"]), rel=1e-5)
            assert float(b["loss"]) == pytest.approx(float(a["loss"]), rel=1e-5)
