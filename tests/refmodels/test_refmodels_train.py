"""Reference-model training: targets from manifests, batch plans, augmentation, F1 against
scikit-learn, and exact resume of a killed run (tiny tagger and embedder on synthetic clips)."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from unisono.audio import save_audio
from unisono.config import load_config
from unisono.data.manifest import Event, ManifestEntry, write_manifest
from unisono.errors import UnisonoError
from unisono.models.refnet import MelConfig
from unisono.refmodels.data import AugmentConfig, BatchPlan, augment
from unisono.refmodels.evaluate import (
    multi_label_macro_f1,
    retrieval_ranks,
    retrieval_recall,
    single_label_macro_f1,
    tagger_scores,
)
from unisono.refmodels.labels import IGNORE, LabelSets, clip_targets

LABELS = LabelSets(events=("whistle", "marimba", "rain", "dog bark", "speech", "music"),
                   instruments=("whistle", "marimba", "piano", "drums"),
                   voices=("espeak-en-us-f1", "none"))


def _world(**fields) -> ManifestEntry:
    return ManifestEntry(id="x", path="x.wav", source="unisono-world", **fields)


def test_world_targets_tell_events_from_instruments_of_the_same_name() -> None:
    sfx = _world(kind="sfx", labels=["rain", "whistle"], events=[Event("whistle", 0.1, 1.0)],
                 extra={"background": "rain"})
    target = clip_targets(sfx, LABELS)
    assert [LABELS.events[i] for i in target.events] == ["whistle", "rain"]
    assert target.instruments == () and LABELS.voices[target.voice] == "none"
    assert LABELS.genders[target.gender] == "none"
    music = _world(kind="music", labels=["jazz drum kit", "marimba", "music", "whistle"])
    target = clip_targets(music, LABELS)
    assert [LABELS.events[i] for i in target.events] == ["music"]
    assert [LABELS.instruments[i] for i in target.instruments] == ["whistle", "marimba", "drums"]
    speech = _world(kind="speech", labels=["female speech", "speech"], speaker="espeak-en-us-f1",
                    gender="female")
    target = clip_targets(speech, LABELS)
    assert [LABELS.events[i] for i in target.events] == ["speech"]
    assert (LABELS.voices[target.voice], LABELS.genders[target.gender]) == ("espeak-en-us-f1", "female")
    stranger = _world(kind="speech", labels=["speech"], speaker="someone-else")
    assert clip_targets(stranger, LABELS).voice == IGNORE and clip_targets(stranger, LABELS).gender == IGNORE
    recorded = ManifestEntry(id="r", path="r.ogg", kind="sfx", labels=["dog bark"], source="debian-x")
    assert [LABELS.events[i] for i in clip_targets(recorded, LABELS).events] == ["dog bark"]


def test_batch_plan_is_a_seeded_permutation_per_epoch() -> None:
    lengths = np.random.default_rng(0).integers(10, 500, size=103)
    plan = BatchPlan(lengths, batch_size=8, seed=3, group=4)
    assert plan.steps_per_epoch == 12
    first_epoch = np.concatenate([plan.batch(s) for s in range(12)])
    assert len(set(first_epoch.tolist())) == 96  # no clip twice in an epoch
    again = BatchPlan(lengths, batch_size=8, seed=3, group=4)
    np.testing.assert_array_equal(again.batch(17), plan.batch(17))
    assert not np.array_equal(plan.batch(0), BatchPlan(lengths, batch_size=8, seed=4).batch(0))
    with pytest.raises(UnisonoError, match="batch size"):
        BatchPlan(lengths[:3], batch_size=8, seed=0)


def test_balanced_sampling_draws_rare_labels_as_often_as_frequent_ones() -> None:
    from unisono.refmodels.tagger_train import balanced_weights

    # label 0 on 90 clips, label 1 on 10, label 2 on 30; the last 10 clips have no event label
    events = np.zeros((140, 3), np.float32)
    events[:90, 0] = 1
    events[90:100, 1] = 1
    events[100:130, 2] = 1
    events[95:100, 0] = 1  # five clips hold both: their rarest label is 1
    weights = balanced_weights(events, power=1.0)
    np.testing.assert_allclose(weights[[0, 92, 97, 110, 135]], [30 / 95, 3.0, 3.0, 1.0, 1.0])
    np.testing.assert_array_equal(balanced_weights(events, power=0.0), np.ones(140))
    # label 0 left out (say "speech"): clips holding only it weigh as much as a median clip
    partial = balanced_weights(events, power=1.0, columns=np.array([False, True, True]))
    np.testing.assert_allclose(partial[[0, 92, 97, 110, 135]], [1.0, 2.0, 2.0, 2 / 3, 1.0])
    plan = BatchPlan(np.full(140, 100), batch_size=10, seed=0, weights=weights)
    drawn = np.concatenate([plan.batch(s) for s in range(14 * 50)])
    share = [np.isin(drawn, rows).mean() for rows in (np.arange(90), np.arange(90, 100))]
    expected = [weights[:90].sum() / weights.sum(), weights[90:100].sum() / weights.sum()]
    np.testing.assert_allclose(share, expected, atol=0.02)
    np.testing.assert_array_equal(plan.batch(3), BatchPlan(np.full(140, 100), batch_size=10, seed=0,
                                                           weights=weights).batch(3))
    with pytest.raises(UnisonoError, match="weights"):
        BatchPlan(np.full(140, 100), batch_size=10, seed=0, weights=np.zeros(140))


def test_augment_is_seeded_and_keeps_the_floor() -> None:
    mel = MelConfig()
    clean = np.full((64, 200), -3.0, dtype=np.float32)
    codec = np.full((64, 200), -2.0, dtype=np.float32)
    config = AugmentConfig(codec_probability=1.0, gain_db=40.0, freq_masks=1, time_masks=1)
    out = augment(clean, codec, config, mel, np.random.default_rng(1))
    np.testing.assert_array_equal(out, augment(clean, codec, config, mel, np.random.default_rng(1)))
    assert out.min() >= mel.floor_value
    unmasked = out[out > mel.floor_value]
    gain = np.random.default_rng(1)
    gain.random()
    assert np.allclose(unmasked, max(-2.0 + gain.uniform(-40, 40) / 10, mel.floor_value))
    plain = augment(clean, None, AugmentConfig(codec_probability=1.0, gain_db=0, freq_masks=0,
                                               time_masks=0), mel, np.random.default_rng(2))
    np.testing.assert_array_equal(plain, clean)


def test_macro_f1_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    names = ["a", "b", "c", "d"]
    truth = [names[i] for i in rng.integers(0, 4, 60)]
    predicted = [t if rng.random() < 0.6 else names[rng.integers(0, 4)] for t in truth]
    expected = metrics.f1_score(truth, predicted, average="macro")
    assert single_label_macro_f1(truth, predicted) == pytest.approx(expected)
    sets_true = [{"a", "b"}, {"c"}, {"a"}, {"d", "c"}]
    sets_pred = [{"a"}, {"c", "b"}, {"a"}, {"d"}]
    binarizer = pytest.importorskip("sklearn.preprocessing").MultiLabelBinarizer(classes=names)
    expected = metrics.f1_score(binarizer.fit_transform(sets_true), binarizer.transform(sets_pred),
                                average="macro", zero_division=0)
    assert multi_label_macro_f1(sets_true, sets_pred) == pytest.approx(expected)


def test_tagger_scores_use_the_sound_events_only() -> None:
    from unisono.models.tagger import TagPrediction

    labels = {"event": ("dog bark", "rain", "traffic", "speech"), "instrument": ("piano",),
              "voice": ("none",), "gender": ("none",)}
    probabilities = {"event": np.array([[0.2, 0.1, 0.9, 0.0], [0.3, 0.8, 0.0, 0.0],
                                        [0.4, 0.9, 0.0, 0.0], [0.1, 0.3, 0.0, 0.95]], np.float32),
                     "instrument": np.zeros((4, 1), np.float32), "voice": np.ones((4, 1), np.float32),
                     "gender": np.ones((4, 1), np.float32)}
    entries = [_world(kind="sfx", events=[Event("dog bark", 0, 1)], labels=["dog bark", "traffic"],
                      extra={"background": "traffic"}),
               _world(kind="sfx", events=[Event("rain", 0, 1)], labels=["rain"]),
               _world(kind="sfx", events=[Event("dog bark", 0, 1)], labels=["dog bark", "rain"],
                      extra={"background": "rain"}),
               _world(kind="speech", labels=["speech"])]
    scores = tagger_scores(TagPrediction(labels, probabilities), entries)
    # "traffic" is a bed and never a top-1 event; the "rain" bed is no candidate over itself
    assert scores["clips"] == 3 and scores["top1_accuracy"] == 1.0
    assert scores["clips_isolated"] == 1 and scores["top1_macro_f1_isolated"] == 1.0
    # thresholded against {event, bed}: dog bark missed twice (F1 0), rain and traffic found (F1 1)
    assert scores["multilabel_macro_f1"] == pytest.approx(2 / 3)


def test_an_event_over_a_bed_of_its_own_class_may_be_named() -> None:
    from unisono.models.tagger import TagPrediction

    labels = {"event": ("dog bark", "stream"), "instrument": ("piano",), "voice": ("none",),
              "gender": ("none",)}
    probabilities = {"event": np.array([[0.1, 0.9], [0.2, 0.9]], np.float32),
                     "instrument": np.zeros((2, 1), np.float32), "voice": np.ones((2, 1), np.float32),
                     "gender": np.ones((2, 1), np.float32)}
    entries = [_world(kind="sfx", events=[Event("stream", 0, 1)], labels=["stream"],
                      extra={"background": "stream"}),
               _world(kind="sfx", events=[Event("dog bark", 0, 1)], labels=["dog bark", "stream"],
                      extra={"background": "stream"})]
    scores = tagger_scores(TagPrediction(labels, probabilities), entries)
    # a stream event over a stream bed: "stream" is the answer, not a forbidden bed label
    assert scores["top1_accuracy"] == 1.0 and scores["top1_macro_f1"] == 1.0
    # restricted to the dog-bark class: one clip, and "stream" is no longer a candidate
    only = tagger_scores(TagPrediction(labels, probabilities), entries, classes=["dog bark"])
    assert only["clips"] == 1 and only["top1_accuracy"] == 1.0


def test_retrieval_counts_clips_with_the_same_caption_as_hits() -> None:
    similarity = np.array([[0.2, 0.9, 0.1], [0.3, 0.5, 0.8], [0.1, 0.2, 0.7]])
    assert retrieval_recall(similarity, ks=(1,)) == {"R@1": 1 / 3}
    captions = ["a dog", "a dog", "rain"]
    # query 0 ranks its twin first (a hit); query 1 still loses to clip 2
    np.testing.assert_array_equal(retrieval_ranks(similarity, captions), [0, 1, 0])
    assert retrieval_recall(similarity, ks=(1, 2), groups=captions) == {"R@1": 2 / 3, "R@2": 1.0}
    with pytest.raises(UnisonoError, match="groups"):
        retrieval_ranks(similarity, ["a", "b"])


# ----- tiny end-to-end runs --------------------------------------------------------------------
@pytest.fixture
def tiny_manifest(tmp_path):
    rng = np.random.default_rng(0)
    entries = []
    for index in range(12):
        seconds = 0.5 + 0.25 * (index % 4)
        t = np.arange(int(seconds * 16000)) / 16000
        tone = 0.2 * np.sin(2 * np.pi * (300 + 200 * (index % 3)) * t)
        audio = (tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        save_audio(tmp_path / "audio" / f"{index}.wav", audio, 16000)
        label = ["dog bark", "rain", "whistle"][index % 3]
        entries.append(ManifestEntry(id=f"c{index}", path=f"audio/{index}.wav", kind="sfx",
                                     labels=[label], captions=[f"the sound of {label} {index % 2}"]))
    return write_manifest(tmp_path / "manifest.jsonl", entries)


def _overrides(tmp_path, manifest, run: str, steps: int) -> list[str]:
    return [f"data.manifests=[{manifest}]", "data.renders=[]", "data.val_renders=[]",
            "data.real_clips=false", f"data.cache_dir={tmp_path / 'cache'}", "data.batch_size=4",
            "augment.codec_probability=0.0", "model.backbone.channels=[4, 8]",
            f"run.output_dir={tmp_path / run}", f"run.max_steps={steps}", "run.checkpoint_every=2",
            "run.log_every=1", "run.eval_every=0", "optim.warmup_steps=2"]


def _final_weights(folder) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def test_tagger_training_resumes_exactly(tmp_path, tiny_manifest) -> None:
    from unisono.refmodels.tagger_train import TrainTaggerConfig, train_tagger

    labels = ["model.events=[dog bark, rain, whistle]", "model.instruments=[piano]",
              "model.voices=[none]", "model.hidden=8"]
    straight = train_tagger(load_config(TrainTaggerConfig, None, _overrides(
        tmp_path, tiny_manifest, "a", 4) + labels), show_progress=False)
    train_tagger(load_config(TrainTaggerConfig, None, _overrides(tmp_path, tiny_manifest, "b", 2) + labels),
                 show_progress=False)
    resumed = train_tagger(load_config(TrainTaggerConfig, None, _overrides(
        tmp_path, tiny_manifest, "b", 4) + labels), show_progress=False)
    a, b = _final_weights(straight), _final_weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    from unisono.models.tagger import Tagger

    assert Tagger.from_pretrained(straight).config.events == ["dog bark", "rain", "whistle"]
    with pytest.raises(UnisonoError, match="already holds checkpoints"):
        train_tagger(load_config(TrainTaggerConfig, None, _overrides(tmp_path, tiny_manifest, "b", 4) + labels),
                     resume=False, show_progress=False)
    # a fine-tune starts from the given tagger: with a zero learning rate its weights stay
    tuned = train_tagger(load_config(TrainTaggerConfig, None, _overrides(
        tmp_path, tiny_manifest, "c", 2) + labels + [f"init_from={straight}", "optim.lr=0.0",
                                                      "balance_power=1.0"]), show_progress=False)
    c = _final_weights(tuned)
    assert all(torch.equal(a[k], c[k]) for k in a if "running" not in k and "num_batches" not in k)
    # ... also from a tagger with an aiSFX probe: its CNN is taken, the probe (fitted to the old
    # CNN) is left behind
    import dataclasses

    from unisono.models.tagger import ProbeConfig

    base = Tagger.from_pretrained(straight)
    probed = Tagger(dataclasses.replace(base.config, probe=ProbeConfig()))
    probed.load_state_dict(base.state_dict(), strict=False)
    probed_dir = probed.save_pretrained(tmp_path / "probed")
    tuned = train_tagger(load_config(TrainTaggerConfig, None, _overrides(
        tmp_path, tiny_manifest, "e", 2) + labels + [f"init_from={probed_dir}", "optim.lr=0.0"]),
        show_progress=False)
    e = _final_weights(tuned)
    assert Tagger.from_pretrained(tuned).config.probe is None and not any(k.startswith("probe") for k in e)
    assert all(torch.equal(a[k], e[k]) for k in a if "running" not in k and "num_batches" not in k)
    with pytest.raises(UnisonoError, match="labels differ"):
        train_tagger(load_config(TrainTaggerConfig, None, _overrides(tmp_path, tiny_manifest, "d", 2) + [
            *labels[:-2], "model.voices=[none, espeak-en-us-f1]", labels[-1], f"init_from={straight}"]),
            show_progress=False)


def test_clap_training_runs_and_writes_a_loadable_embedder(tmp_path, tiny_manifest) -> None:
    pytest.importorskip("transformers")
    from unisono.models.clap import ContrastiveEmbedder
    from unisono.refmodels.clap_train import TrainClapConfig, train_clap

    overrides = _overrides(tmp_path, tiny_manifest, "clap", 2) + [
        "init_audio_from=null", "model.embed_dim=8", "model.audio_hidden=8", "model.text_hidden=8"]
    final = train_clap(load_config(TrainClapConfig, None, overrides), show_progress=False)
    model = ContrastiveEmbedder.from_pretrained(final)
    assert model.embed_audio(np.zeros(8000, np.float32) + 0.01, 16000).shape == (1, 8 + 6)
