"""Typed configuration: dataclasses loaded from YAML with `--set a.b=c` overrides.

Every component has one dataclass config. Loading is strict: an unknown key is an error naming the
key, its path and the valid keys, so users never wonder whether a setting took effect.
"""

from unisono.config.core import (
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_override,
    save_config,
)

__all__ = [
    "apply_overrides", "config_from_dict", "config_to_dict", "load_config", "parse_override",
    "save_config",
]
