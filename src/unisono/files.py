"""File modes of what Unisono writes.

Atomic writes go through temporary files and folders (`tempfile.mkstemp` / `mkdtemp`), and
safetensors writes its files, with owner-only modes (0600 / 0700). Everything Unisono writes is
given the modes any file or folder the user's shell makes would have (0666 / 0777 less the umask),
so a run folder or an exported model shared by a team stays readable to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save_file


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def with_umask_modes(path: str | Path) -> Path:
    """Give a file, or a folder and everything in it, the umask's modes. Returns the path."""
    path = Path(path)
    mask = _umask()
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for item in paths:
        if not item.is_symlink():
            os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)
    return path


def save_tensors(tensors: Mapping[str, torch.Tensor], path: str | Path,
                 metadata: dict[str, str] | None = None) -> Path:
    """`safetensors.torch.save_file`, with the umask's file mode."""
    save_file(dict(tensors), str(path), metadata=metadata)
    return with_umask_modes(path)
