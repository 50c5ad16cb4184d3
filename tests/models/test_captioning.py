"""Captioning in the generator's weights (UAT): masking, the 1/t-weighted loss, the unmasking
sampler, the caption stream of the DiT, old folders and the understanding tasks' answers."""

import math

import pytest
import torch

from unisono.data.manifest import Event, ManifestEntry
from unisono.errors import UnisonoError
from unisono.flow.text_diffusion import mask_tokens, masked_diffusion_loss, sample_tokens
from unisono.models.dit import DiT, DiTConfig
from unisono.pipeline import join_window_captions, understanding_windows
from unisono.tasks.understanding import answerable

C, T, N, DT, L, V, K = 8, 10, 5, 16, 6, 40, 12
MASK = 3


def caption_config(**changes) -> DiTConfig:
    values = dict(latent_channels=C, width=32, depth=2, heads=2, mlp_ratio=2.0, text_width=DT,
                  text_layers=L, content_dim=8, duration_hidden=16, caption_stream=True,
                  caption_vocab=V, caption_length=K, caption_mask_token=MASK,
                  caption_end_token=2, caption_pad_token=0)
    values.update(changes)
    return DiTConfig(**values)


def text(batch: int = 1, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    states = tuple(torch.randn(batch, N, DT, generator=generator) for _ in range(L + 1))
    return states, torch.ones(batch, N, dtype=torch.bool)


def test_masking_follows_each_rows_rate() -> None:
    tokens = torch.randint(4, V, (3, 20000), generator=torch.Generator().manual_seed(0))
    rate = torch.tensor([0.1, 0.5, 1.0])
    generators = [torch.Generator().manual_seed(i) for i in range(3)]
    masked_tokens, masked = mask_tokens(tokens, rate, mask_token=MASK, generators=generators)
    fractions = masked.float().mean(dim=1)
    for fraction, p in zip(fractions.tolist(), rate.tolist(), strict=True):
        assert abs(fraction - p) <= 4 * math.sqrt(p * (1 - p) / 20000) + 1e-9
    assert torch.equal(masked_tokens[masked], torch.full_like(masked_tokens[masked], MASK))
    assert torch.equal(masked_tokens[~masked], tokens[~masked])
    again = mask_tokens(tokens, rate, mask_token=MASK,
                        generators=[torch.Generator().manual_seed(i) for i in range(3)])[1]
    assert torch.equal(again, masked)
    with pytest.raises(UnisonoError, match="one rate and one generator per row"):
        mask_tokens(tokens, rate, mask_token=MASK, generators=generators[:2])


def test_loss_is_masked_cross_entropy_weighted_by_inverse_rate() -> None:
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 4, 6, generator=generator)
    targets = torch.tensor([[1, 2, 3, 4], [5, 0, 1, 2]])
    masked = torch.tensor([[True, False, True, False], [False, False, False, True]])
    rate = torch.tensor([0.5, 0.25])
    log_p = torch.log_softmax(logits, dim=-1)
    expected = -(log_p[0, 0, 1] + log_p[0, 2, 3]) / 0.5 - log_p[1, 3, 2] / 0.25
    torch.testing.assert_close(masked_diffusion_loss(logits, targets, masked, rate), expected / 8)
    # Nothing masked: nothing to learn.
    assert masked_diffusion_loss(logits, targets, torch.zeros_like(masked), rate) == 0


def fixed_string_logits(answer: list[int], confidence: list[float] | None = None):
    """A 'model' that predicts `answer` at every position, more surely at some positions."""
    calls = []

    def logits_fn(tokens: torch.Tensor) -> torch.Tensor:
        calls.append(tokens.clone())
        out = torch.zeros(tokens.shape[0], len(answer), V)
        for position, token in enumerate(answer):
            out[:, position, token] = 5.0 if confidence is None else confidence[position]
        return out

    return logits_fn, calls


@pytest.mark.parametrize("steps", [1, 4, K])
def test_sampler_returns_the_string_a_model_predicts(steps) -> None:
    answer = [10, 11, 12, 13, 2, 0, 0, 0, 0, 0, 0, 0]
    logits_fn, calls = fixed_string_logits(answer)
    tokens = sample_tokens(logits_fn, batch=2, length=K, steps=steps, mask_token=MASK)
    assert tokens.tolist() == [answer, answer]
    assert len(calls) == steps
    assert (calls[0] == MASK).all()  # starts fully masked


def test_sampler_commits_the_most_confident_positions_first() -> None:
    answer = list(range(4, 4 + K))
    confidence = [float(k) for k in range(K)]  # later positions are surer
    logits_fn, calls = fixed_string_logits(answer, confidence)
    sample_tokens(logits_fn, batch=1, length=K, steps=3, mask_token=MASK)
    second = calls[1][0]
    assert (second[K - 4 :] != MASK).all() and (second[: K - 4] == MASK).all()


def test_sampling_is_deterministic_by_seed() -> None:
    table = torch.randn(K, V, generator=torch.Generator().manual_seed(3))

    def logits_fn(tokens):
        return table.expand(tokens.shape[0], K, V)

    def draw(seed):
        return sample_tokens(logits_fn, batch=1, length=K, steps=4, mask_token=MASK,
                             temperature=1.0, generator=torch.Generator().manual_seed(seed))

    assert torch.equal(draw(0), draw(0))
    assert not torch.equal(draw(0), draw(1))
    assert not (draw(5) == MASK).any()
    with pytest.raises(UnisonoError, match="caption steps"):
        sample_tokens(logits_fn, batch=1, length=K, steps=K + 1, mask_token=MASK)


def test_caption_logits_read_the_audio_and_ignore_padding_frames() -> None:
    model = DiT(caption_config()).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(parameter.numel()))
    states, mask = text()
    latent = torch.randn(1, C, T)
    tokens = torch.full((1, K), MASK)
    logits = model.caption_logits(latent, tokens, text_states=states, text_mask=mask)
    assert logits.shape == (1, K, V)
    other = model.caption_logits(latent + 1.0, tokens, text_states=states, text_mask=mask)
    assert not torch.allclose(logits, other)  # the caption depends on the audio
    padded = torch.cat([latent, 30 * torch.randn(1, C, 5)], dim=2)
    frame_mask = torch.tensor([[True] * T + [False] * 5])
    again = model.caption_logits(padded, tokens, text_states=states, text_mask=mask,
                                 frame_mask=frame_mask)
    torch.testing.assert_close(again, logits, rtol=1e-5, atol=1e-5)
    # The output layer is the token embedding (tied): V x D once.
    assert model.caption_embedding.weight.shape == (V, 32)
    with pytest.raises(UnisonoError, match="at most"):
        model.caption_logits(latent, torch.full((1, K + 1), MASK), text_states=states,
                             text_mask=mask)
    with pytest.raises(UnisonoError, match="no caption stream"):
        DiT(caption_config(caption_stream=False)).caption_logits(
            latent, tokens, text_states=states, text_mask=mask)


def test_an_old_folder_loads_and_captions_with_fresh_caption_layers(tmp_path) -> None:
    old = DiT(caption_config(caption_stream=False))
    old.save_pretrained(tmp_path / "old")
    config_file = tmp_path / "old" / "config.json"
    config_file.write_text(config_file.read_text().replace('"caption_stream": false',
                                                           '"caption_stream": true'))
    loaded = DiT.from_pretrained(tmp_path / "old")
    assert torch.equal(loaded.head.weight, old.head.weight)
    states, mask = text()
    logits = loaded.caption_logits(torch.randn(1, C, T), torch.full((1, K), MASK),
                                   text_states=states, text_mask=mask)
    assert torch.isfinite(logits).all()


def test_caption_conv_starts_as_nothing_and_lets_a_position_read_its_neighbours(tmp_path) -> None:
    before = DiT(caption_config()).eval()
    with torch.no_grad():  # a trained-looking stream, so that the comparison means something
        for parameter in before.parameters():
            parameter.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(parameter.numel()))
    before.save_pretrained(tmp_path / "before")
    config_file = tmp_path / "before" / "config.json"
    config_file.write_text(config_file.read_text().replace('"caption_conv": 0',
                                                           '"caption_conv": 3'))
    grown = DiT.from_pretrained(tmp_path / "before")  # a folder without the convolution loads
    assert grown.blocks[0].caption_conv is not None
    states, mask = text()
    latent = torch.randn(1, C, T)
    tokens = torch.full((1, K), MASK)
    tokens[0, 5] = 7
    with torch.no_grad():
        expected = before.caption_logits(latent, tokens, text_states=states, text_mask=mask)
        torch.testing.assert_close(
            grown.caption_logits(latent, tokens, text_states=states, text_mask=mask), expected)
    # The convolution runs along caption positions after each block's update, as a residual:
    # with the last block's kernel opened, the logits move by exactly that block's
    # convolution of its updated stream, read out by the caption head.
    last = grown.blocks[-1]
    seen = {}
    original = last.caption.finish

    def keep(*args, **kwargs):
        seen["updated"] = original(*args, **kwargs)
        return seen["updated"]

    last.caption.finish = keep
    with torch.no_grad():
        last.caption_conv.weight.normal_(0.0, 0.2, generator=torch.Generator().manual_seed(1))
        opened = grown.caption_logits(latent, tokens, text_states=states, text_mask=mask)
        updated = seen["updated"]
        by_hand = updated + torch.nn.functional.conv1d(
            updated.transpose(1, 2), last.caption_conv.weight, last.caption_conv.bias,
            padding=1).transpose(1, 2)
        hidden = grown.caption_norm(by_hand)
        expected_open = hidden @ grown.caption_embedding.weight.t() + grown.caption_bias
    torch.testing.assert_close(opened, expected_open)
    assert not torch.allclose(opened, expected)
    with pytest.raises(UnisonoError, match="odd kernel"):
        caption_config(caption_conv=2)


def test_bad_caption_config_names_the_fix() -> None:
    with pytest.raises(UnisonoError, match="caption_vocab"):
        caption_config(caption_vocab=0)
    with pytest.raises(UnisonoError, match="mask / end / pad"):
        caption_config(caption_mask_token=V)


def test_questions_read_exact_answers_from_metadata() -> None:
    scene = ManifestEntry(id="a", path="a.wav", kind="scene", extra={"event_details": [
        {"class": "car horn", "onset": 1.0, "offset": 2.0, "count": 3},
        {"class": "tom drum", "onset": 2.0, "offset": 3.0}]})
    assert answerable(scene) == [("count", "car horn", "three")]
    speech = ManifestEntry(id="b", path="b.wav", kind="speech", gender="female")
    assert answerable(speech) == [("gender", "", "female")]
    music = ManifestEntry(id="c", path="c.wav", kind="music", instrument="violin")
    assert answerable(music) == [("instrument", "", "violin")]
    single = ManifestEntry(id="d", path="d.wav", kind="sfx",
                           events=[Event("dog bark", 0.1, 0.5), Event("dog bark", 1.0, 1.3)])
    assert answerable(single) == [("event", "", "dog bark")]
    mixed = ManifestEntry(id="e", path="e.wav", kind="sfx",
                          events=[Event("dog bark", 0.1, 0.5), Event("siren", 1.0, 1.3)])
    assert answerable(mixed) == []
    # A user's row without world metadata asks nothing.
    assert answerable(ManifestEntry(id="f", path="f.wav", captions=["rain"])) == []


@pytest.mark.parametrize("frames, max_frames, expected", [
    (500, 500, [(0, 500)]),
    (7, 500, [(0, 7)]),
    (1001, 500, [(0, 334), (334, 667), (667, 1001)]),
    (1000, 500, [(0, 500), (500, 1000)]),
])
def test_understanding_windows_are_the_fewest_equal_ones_that_fit(frames, max_frames,
                                                                  expected) -> None:
    windows = understanding_windows(frames, max_frames)
    assert windows == expected
    assert all(stop - start <= max_frames for start, stop in windows)


def test_window_captions_join_with_their_times() -> None:
    joined = join_window_captions(["a dog barks.", "rain falls"], [(0.0, 8.34), (8.34, 16.7)])
    assert joined == "From 0.0 s to 8.3 s: A dog barks. From 8.3 s to 16.7 s: Rain falls."


def test_caption_embedding_from_word_embeddings_keeps_their_geometry() -> None:
    # A rank-3 table in 10 dimensions: its top components fit in width 32, so the initialised
    # rows are the centred table up to rotation and scale (pairwise distances in proportion).
    generator = torch.Generator().manual_seed(0)
    table = torch.randn(V, 3, generator=generator) @ torch.randn(3, 10, generator=generator) + 5.0
    model = DiT(caption_config())
    model.init_caption_embedding(table)
    rows = model.caption_embedding.weight.detach()
    assert rows.std().item() == pytest.approx(0.02, rel=1e-4)
    ratio = torch.cdist(rows, rows) / torch.cdist(table, table).clamp(min=1e-9)
    off = ~torch.eye(V, dtype=torch.bool)
    assert ratio[off].std() / ratio[off].mean() < 1e-4
    # The output head is tied: logits read the same rows.
    states, mask = text()
    logits = model.caption_logits(torch.randn(1, C, T), torch.full((1, K), MASK),
                                  text_states=states, text_mask=mask)
    assert logits.shape == (1, K, V)
    with pytest.raises(UnisonoError, match="does not fit the caption vocabulary of 40"):
        model.init_caption_embedding(torch.randn(V + 1, 10))
    with pytest.raises(UnisonoError, match="caption_stream"):
        DiT(caption_config(caption_stream=False)).init_caption_embedding(table)
