"""The content symbol table: ids for the phones of time-aligned tasks (aligned TTS, singing).

Id 0 pads, id 1 stands for a phone outside the table; the rest are the world's phone alphabet
(espeak-ng IPA without stress marks; `unisono.world.speech.PHONEME_INVENTORY`), which users' data
reaches through the same normalisation (`normalize_phone`).
"""

from __future__ import annotations

from collections.abc import Sequence

from unisono.world.speech.base import PHONEME_INVENTORY, normalize_phone

PAD, UNKNOWN = "<pad>", "<unk>"
SYMBOLS: tuple[str, ...] = (PAD, UNKNOWN, *PHONEME_INVENTORY)
_IDS = {symbol: index for index, symbol in enumerate(SYMBOLS)}


def symbol_ids(phones: Sequence[str]) -> list[int]:
    """Ids of phones (normalised first; unknown ones map to <unk>)."""
    return [_IDS.get(phone, _IDS.get(normalize_phone(phone), 1)) for phone in phones]
