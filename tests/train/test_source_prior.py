"""Transformation tasks that start from their source (`flow.source_prior`): the path's end,
the training example, the model folder's entry and its checks, and sampling from the source."""

import json

import numpy as np
import pytest
import torch
from scipy import stats
from train_configs import tiny_train_config

from unisono.cli.tasks import task_table
from unisono.errors import UnisonoError
from unisono.flow import FlowMatching
from unisono.flow.path import ChangeVelocity, source_prior
from unisono.flow.solvers import sample
from unisono.model_folder import MODEL_INDEX, export_model_folder, write_model_folder
from unisono.models.dit import DiT, DiTConfig
from unisono.pipeline import Unisono
from unisono.train import train_generator
from unisono.train.objective import flow_example


def test_the_prior_is_the_source_plus_scaled_noise() -> None:
    source, noise = torch.randn(2, 4, 5), torch.randn(2, 4, 5)
    assert torch.equal(source_prior(source, noise, 0.0), source)
    torch.testing.assert_close(source_prior(source, noise, 0.3), source + 0.3 * noise)
    with pytest.raises(UnisonoError, match="differ in shape"):
        source_prior(source, noise[:, :, :4], 0.3)
    with pytest.raises(UnisonoError, match=">= 0"):
        source_prior(source, noise, -0.1)


def test_a_training_example_runs_from_the_source_to_the_target() -> None:
    flow = FlowMatching()
    latent, source = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    plain = flow_example(flow, latent, seed=0, step=7, offset=2)
    anchored = flow_example(flow, latent, seed=0, step=7, offset=2, source=source, prior_noise=0.5)
    # The same draws (noise and times are a function of seed, step and row); the times are
    # the normal draw's CDF instead of its logistic, so they keep their order ...
    normal = torch.logit(plain.flow_time.double())
    torch.testing.assert_close(anchored.flow_time.double(), 0.5 * (1 + torch.erf(normal / 2**0.5)),
                               atol=1e-6, rtol=0)
    end = source + 0.5 * plain.noise
    torch.testing.assert_close(anchored.noise, end)
    # ... on the straight path from the target (t = 0) to source + 0.5 noise (t = 1).
    t = anchored.flow_time.view(-1, 1, 1)
    torch.testing.assert_close(anchored.noised, (1 - t) * latent + t * end)
    torch.testing.assert_close(anchored.target, end - latent)
    exact = flow_example(flow, latent, seed=0, step=7, offset=2, source=source, prior_noise=0.0)
    torch.testing.assert_close(exact.target, source - latent)


def test_source_prior_times_are_uniform() -> None:
    flow = FlowMatching()
    latent = torch.zeros(1, 2, 3)
    times = torch.cat([flow_example(flow, latent, seed=1, step=s, offset=0, source=latent,
                                    prior_noise=0.25).flow_time for s in range(4000)]).numpy()
    plain = torch.cat([flow_example(flow, latent, seed=1, step=s, offset=0).flow_time
                       for s in range(4000)]).numpy()
    assert stats.kstest(times, "uniform").pvalue > 0.01
    assert 0.08 < np.mean(times > 0.9) < 0.12  # the logit-normal puts about 2 % there
    assert np.mean(plain > 0.9) < 0.03


def test_a_change_example_regresses_source_minus_target() -> None:
    flow = FlowMatching()
    latent, source = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    velocity = flow_example(flow, latent, seed=0, step=3, offset=1, source=source, prior_noise=0.25)
    change = flow_example(flow, latent, seed=0, step=3, offset=1, source=source, prior_noise=0.25,
                          output="change")
    # The same path and input; only the target differs: the velocity less the prior's noise.
    torch.testing.assert_close(change.noised, velocity.noised)
    torch.testing.assert_close(change.target, source - latent)
    torch.testing.assert_close(velocity.target - change.target, velocity.noise - source)


@pytest.mark.parametrize("solver", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 3, 8])
def test_a_network_predicting_the_exact_change_lands_on_the_target(solver, steps) -> None:
    target, source = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    calls = []

    def network(latent, flow_time, *, source_latent):
        calls.append(float(flow_time[0]))
        return source_latent - target

    start = source + 0.7 * torch.randn(2, 4, 6)
    result = sample(ChangeVelocity(network), start, num_steps=steps, solver=solver, sway=0.0,
                    conditions={"source_latent": source})
    torch.testing.assert_close(result, target, atol=1e-5, rtol=0)
    # Heun's corrector at t = 0 reuses the last velocity instead of asking the network at 0 / 0.
    assert min(calls) > 0.0 and len(calls) == (2 * steps - 1 if solver == "heun" else steps)



def test_heuns_last_corrector_reuses_each_guidance_pass_own_velocity() -> None:
    """Two-pass guidance asks with and without the instruction; at t = 0 each pass must get its
    own last velocity back, so two passes sample what one doubled batch samples."""
    from unisono.flow.guidance import ClassifierFreeGuidance

    target, source = torch.randn(1, 4, 6), torch.randn(1, 4, 6)
    start = source + 0.5 * torch.randn(1, 4, 6)

    def network(latent, flow_time, *, source_latent, text_mask):
        # The instruction pulls toward the target, its absence toward a tenth of the change.
        kept = text_mask.any(dim=1).float()[:, None, None]
        return (source_latent - target) * (0.1 + 0.9 * kept) + 0.05 * latent

    results = []
    for batched in (True, False):
        guided = ClassifierFreeGuidance(ChangeVelocity(network), conditions={
            "source_latent": source, "text_mask": torch.ones(1, 3, dtype=torch.bool)},
            unconditional={"source_latent": source, "text_mask": torch.zeros(1, 3, dtype=torch.bool)},
            scale=3.0, batched=batched)
        results.append(sample(guided, start, num_steps=4, solver="heun", sway=0.0))
    torch.testing.assert_close(results[0], results[1], atol=1e-5, rtol=0)

def _fresh_model_folder(folder, source_prior, source_output="velocity") -> object:
    """A model folder whose generator is freshly initialised: its velocity head is zero, so
    sampling returns its starting point unchanged."""
    DiT(DiTConfig(width=32, depth=2, heads=2, mlp_ratio=2.0)).save_pretrained(folder / "ckpt")
    return write_model_folder(folder / "model", generator_dir=folder / "ckpt", codec_dir=None,
                              text_encoder=None, tasks=["se", "sr"], source_prior=source_prior,
                              source_output=source_output)


def test_a_change_model_samples_its_estimate_and_keeps_the_setting(tmp_path) -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    velocity = Unisono.from_pretrained(_fresh_model_folder(tmp_path / "v", {"se": 0.5}))
    folder = _fresh_model_folder(tmp_path / "c", {"se": 0.5}, "change")
    assert json.loads((folder / MODEL_INDEX).read_text())["source_output"] == "change"
    change = Unisono.from_pretrained(folder)
    assert (change.source_output, velocity.source_output) == ("change", "velocity")
    roundtrip = np.asarray(change.codec.roundtrip(audio, 16000))
    # A zero head: as a velocity it keeps the start (source + 0.5 noise); as a change it says
    # "nothing to change", so sampling lands on the source.
    kept = velocity.enhance(audio, sample_rate=16000, steps=3, peak=None).audio
    landed = change.enhance(audio, sample_rate=16000, steps=3, peak=None).audio
    np.testing.assert_allclose(landed, roundtrip, atol=1e-4)
    assert np.abs(kept - roundtrip).mean() > 10 * np.abs(landed - roundtrip).mean() + 1e-3
    assert Unisono.from_pretrained(export_model_folder(folder, tmp_path / "e")).source_output == "change"
    assert "yes, from its source (noise 0.5, predicts the change) |" in task_table(str(folder))
    index = json.loads((folder / MODEL_INDEX).read_text())
    (folder / MODEL_INDEX).write_text(json.dumps({**index, "source_output": "residual"}))
    with pytest.raises(UnisonoError, match="source output 'residual' is not one of velocity, change"):
        Unisono.from_pretrained(folder)


def test_a_task_with_a_source_prior_starts_sampling_from_its_source(tmp_path) -> None:
    folder = _fresh_model_folder(tmp_path, {"se": 0.0})
    assert json.loads((folder / MODEL_INDEX).read_text())["source_prior"] == {"se": 0.0}
    model = Unisono.from_pretrained(folder)
    assert model.source_prior == {"se": 0.0}
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    enhanced = model.enhance(audio, sample_rate=16000, steps=3, peak=None).audio
    upsampled = model.upsample(audio, sample_rate=16000, steps=3, peak=None).audio
    roundtrip = model.codec.roundtrip(audio, 16000)
    roundtrip = roundtrip.numpy() if isinstance(roundtrip, torch.Tensor) else roundtrip
    # A zero velocity keeps the start: the source itself for se, noise for sr (no prior).
    np.testing.assert_allclose(enhanced, roundtrip, atol=1e-4)
    assert np.abs(upsampled - roundtrip).mean() > 10 * np.abs(enhanced - roundtrip).mean() + 1e-3


def test_bad_source_priors_are_refused_with_the_fix(tmp_path) -> None:
    with pytest.raises(UnisonoError, match="'t2a' has no source aligned.*edit_remove"):
        _fresh_model_folder(tmp_path / "a", {"t2a": 0.5})
    with pytest.raises(UnisonoError, match="'edit_remove', which is not trained"):
        _fresh_model_folder(tmp_path / "b", {"edit_remove": 0.5})
    with pytest.raises(UnisonoError, match="noise scale for 'se' must be a number >= 0"):
        _fresh_model_folder(tmp_path / "c", {"se": -1})
    folder = _fresh_model_folder(tmp_path / "d", {"se": 0.25})
    index = json.loads((folder / MODEL_INDEX).read_text())
    (folder / MODEL_INDEX).write_text(json.dumps({**index, "source_prior": ["se"]}))
    with pytest.raises(UnisonoError, match="must map task names to noise scales"):
        Unisono.from_pretrained(folder)
    (folder / MODEL_INDEX).write_text(json.dumps(index))
    table = task_table(str(folder))
    assert "| se | restoration |" in table and "yes, from its source (noise 0.25) |" in table
    assert table.count("from its source") == 1
    exported = export_model_folder(folder, tmp_path / "exported")
    assert Unisono.from_pretrained(exported).source_prior == {"se": 0.25}


def test_the_trainer_refuses_a_source_prior_for_a_generation_task(world_manifest, tmp_path) -> None:
    config = tiny_train_config(world_manifest, tmp_path / "run")
    config.flow.source_prior = ["t2a"]
    with pytest.raises(UnisonoError, match="flow.source_prior: 't2a' has no source aligned"):
        train_generator(config, show_progress=False)
    config.flow.source_prior, config.flow.source_output = [], "residual"
    with pytest.raises(UnisonoError, match="flow.source_output: source output 'residual'"):
        train_generator(config, show_progress=False)
