"""Clip manifests, dataset importers and manifest checking."""

from unisono.data.check import CheckReport, Problem, check_entry, check_manifest
from unisono.data.importers import IMPORTERS, Importer, ImportResult, import_dataset
from unisono.data.manifest import (
    Event,
    ManifestEntry,
    ManifestLineError,
    Note,
    Phoneme,
    iter_manifest,
    read_manifest,
    relative_to_manifest,
    resolve_path,
    write_manifest,
)

__all__ = [
    "IMPORTERS", "CheckReport", "Event", "ImportResult", "Importer", "ManifestEntry",
    "ManifestLineError", "Note", "Phoneme", "Problem", "check_entry", "check_manifest",
    "import_dataset", "iter_manifest", "read_manifest", "relative_to_manifest", "resolve_path",
    "write_manifest",
]
