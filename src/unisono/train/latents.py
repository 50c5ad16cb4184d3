"""Pre-encoded clip latents: every whole clip a task uses as its target is encoded once.

The cache is a folder per codec (named by a digest of the codec's weights and config, so a new codec
never reads stale latents) holding one safetensors file per clip, written atomically. Encoding a
clip is deterministic (posterior mean), so the cache is a pure speed-up: training from the cache
equals training with on-the-fly encoding.

Shapes: C latent channels, T latent frames.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file
from tqdm import tqdm

from unisono.audio import load_audio, to_mono
from unisono.data.manifest import ManifestEntry
from unisono.errors import UnisonoError
from unisono.files import save_tensors
from unisono.models.codec import Codec


def codec_fingerprint(codec: Codec) -> str:
    """A short digest of what a codec's latents depend on: the config and the weights of the
    encoder and bottleneck. Decoder-only settings and weights are left out, so a new decoder on
    the same encoder (`run.freeze_encoder`) keeps the cached latents valid."""
    digest = hashlib.sha256()
    digest.update(json.dumps(codec.config.encoder_settings(), default=str, sort_keys=True).encode())
    for name, value in sorted(codec.state_dict().items()):
        if name.startswith("decoder."):
            continue
        digest.update(name.encode())
        digest.update(value.detach().to(torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _file_name(clip_id: str) -> str:
    return hashlib.sha1(clip_id.encode()).hexdigest() + ".safetensors"


class LatentCache:
    """Latents (C, T) of whole clips, keyed by clip id, in memory once loaded."""

    def __init__(self, root: str | Path, codec: Codec) -> None:
        self.codec = codec
        self.folder = Path(root) / codec_fingerprint(codec)
        self.latents: dict[str, torch.Tensor] = {}

    def build(
        self, entries: Sequence[tuple[ManifestEntry, Path]], *, show_progress: bool = True
    ) -> None:
        """Encode every clip not yet on disk, then load all of them into memory.

        Args:
            entries: (manifest entry, resolved audio path) pairs.
            show_progress: a progress bar while encoding.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        todo = [(e, p) for e, p in entries if not (self.folder / _file_name(e.id)).is_file()]
        iterator = tqdm(todo, desc="encode latents", disable=not show_progress or not todo)
        for entry, path in iterator:
            try:
                audio, sample_rate = load_audio(path)
            except UnisonoError as err:
                raise UnisonoError(f"clip {entry.id}: {err}") from err
            with torch.inference_mode():
                latent = self.codec.encode_audio(to_mono(audio), sample_rate)
            target = self.folder / _file_name(entry.id)
            partial = target.with_suffix(".partial")
            save_tensors({"latent": latent.to(torch.float16).contiguous()}, str(partial))
            partial.replace(target)
        for entry, _ in entries:
            if entry.id not in self.latents:
                stored = load_file(str(self.folder / _file_name(entry.id)))["latent"]
                self.latents[entry.id] = stored.to(torch.float32)

    def __getitem__(self, clip_id: str) -> torch.Tensor:
        if clip_id not in self.latents:
            raise UnisonoError(f"clip {clip_id} is not in the latent cache; build it first.")
        return self.latents[clip_id]

    def __len__(self) -> int:
        return len(self.latents)
