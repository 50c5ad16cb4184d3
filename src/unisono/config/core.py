"""Strict conversion between nested dicts (YAML / JSON) and nested config dataclasses."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tempfile
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from unisono.errors import UnisonoError
from unisono.files import with_umask_modes

T = TypeVar("T")


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"{hint} Valid keys: {', '.join(valid)}."


def _convert(value: Any, annotation: Any, where: str) -> Any:
    """Check and convert one value against a type annotation; `where` names it in errors."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except UnisonoError as err:
                errors.append(str(err))
        raise UnisonoError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is typing.Literal:
        if value not in args:
            raise UnisonoError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, dict):
            raise UnisonoError(f"{where}: expected a mapping for {annotation.__name__}, got {value!r}")
        return config_from_dict(annotation, value, _where=where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise UnisonoError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise UnisonoError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        item = args[0] if args else Any
        converted = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(converted) if origin is tuple else converted
    if origin is dict:
        if not isinstance(value, dict):
            raise UnisonoError(f"{where}: expected a mapping, got {value!r}")
        key_type, value_type = args if args else (Any, Any)
        return {
            _convert(k, key_type, where): _convert(v, value_type, f"{where}.{k}")
            for k, v in value.items()
        }
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise UnisonoError(f"{where}: expected true/false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise UnisonoError(f"{where}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise UnisonoError(f"{where}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise UnisonoError(f"{where}: expected a string, got {value!r}")
    if annotation is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise UnisonoError(f"{where}: expected a path, got {value!r}")
    return value


def config_from_dict(cls: type[T], data: dict[str, Any], *, _where: str = "") -> T:
    """Build a config dataclass from a nested dict; unknown keys and bad types raise UnisonoError."""
    if not isinstance(data, dict):
        raise UnisonoError(f"{_where or cls.__name__}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        where = f"{_where}.{key}" if _where else key
        if key not in fields:
            raise UnisonoError(f"unknown config key {where!r} in {cls.__name__}." + _suggest(key, sorted(fields)))
        kwargs[key] = _convert(value, hints[key], where)
    try:
        return cls(**kwargs)
    except TypeError as err:  # a required field is missing
        raise UnisonoError(f"{_where or cls.__name__}: {err}") from err


def config_to_dict(config: Any) -> Any:
    """Nested plain-Python form of a config (tuples become lists, paths strings) for YAML / JSON."""
    if dataclasses.is_dataclass(config):
        return {f.name: config_to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (list, tuple)):
        return [config_to_dict(v) for v in config]
    if isinstance(config, dict):
        return {k: config_to_dict(v) for k, v in config.items()}
    if isinstance(config, Path):
        return str(config)
    return config


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse `a.b.c=value`; the value is read as YAML (`3`, `0.1`, `true`, `[1, 2]`, `text`)."""
    if "=" not in text:
        raise UnisonoError(f"override {text!r} must look like key.path=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise UnisonoError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):  # YAML 1.1 reads "3e-3" (no dot) as a string; users mean a number
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            pass
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of a nested dict with `a.b=c` overrides applied (validation happens on build)."""
    data = json.loads(json.dumps(data, default=str))
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise UnisonoError(f"override {text!r}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return data


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Load a YAML file (or defaults when `path` is None) into `cls`, then apply overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise UnisonoError(f"config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise UnisonoError(f"config file {path} is not valid YAML: {err}") from err
        if not isinstance(data, dict):
            raise UnisonoError(f"config file {path} must hold a mapping at the top level")
    if overrides:
        base = config_to_dict(config_from_dict(cls, data))
        data = apply_overrides(base, overrides)
    return config_from_dict(cls, data)


def save_config(config: Any, path: str | Path) -> Path:
    """Write a config as YAML (or JSON for a .json suffix) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = config_to_dict(config)
    text = json.dumps(data, indent=2) + "\n" if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    with_umask_modes(tmp)
    os.replace(tmp, path)
    return path
