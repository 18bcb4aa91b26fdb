"""Typed options: parse ``key=value`` strings into option dataclasses.

Every component declares its options as a dataclass with defaults. The CLI and
config files deliver strings or TOML values; :func:`build_options` coerces them
to the declared field types and rejects unknown keys with a suggestion.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import types
import typing
from typing import Any, Mapping

from .errors import OptionError


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """Options of a component that has none."""


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except OptionError as err:  # try the next member of the union
                errors.append(str(err))
        raise OptionError(errors[0] if errors else f"{where}: cannot parse {value!r}")
    if origin is typing.Literal:
        for choice in args:
            if str(choice) == str(value):
                return choice
        raise OptionError(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
    if origin in (tuple, list):
        items = value
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()] if value.strip() else []
        inner = args[0] if args else str
        coerced = [_coerce(v, inner, where) for v in items]
        return tuple(coerced) if origin is tuple else coerced
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise OptionError(f"{where}: expected true/false, got {value!r}")
    if annotation in (int, float):
        try:
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise ValueError
            if annotation is int:
                if float(number) != int(number):
                    raise ValueError
                return int(number)
            return float(number)
        except (TypeError, ValueError):
            raise OptionError(f"{where}: expected {annotation.__name__}, got {value!r}") from None
    if annotation is str:
        return str(value)
    return value


def option_fields(cls: type) -> dict[str, Any]:
    """Map each field name of option dataclass ``cls`` to its resolved type."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def build_options(cls: type, values: Mapping[str, Any] | None = None, *, owner: str = "") -> Any:
    """Instantiate option dataclass ``cls`` from ``values`` (strings or native values).

    Unknown keys raise :class:`OptionError` naming the closest valid key.
    """
    values = dict(values or {})
    fields = option_fields(cls)
    label = f"{owner} option" if owner else "option"
    kwargs = {}
    for key, raw in values.items():
        norm = key.replace("-", "_")
        if norm not in fields:
            close = difflib.get_close_matches(norm, list(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid = ", ".join(fields) or "none"
            raise OptionError(f"unknown {label} '{key}'{hint} (valid: {valid})")
        kwargs[norm] = _coerce(raw, fields[norm], f"{label} '{key}'")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise OptionError(f"invalid {label}s {values}: {err}") from None


RUNTIME = {"runtime": True}
"""Field metadata for options that change how fast, not what, a component
computes (worker counts, ...): ``workers: int = field(default=1, metadata=RUNTIME)``.
They are left out of config hashes and leaderboard labels."""


ADDED_LATER = {"added_later": True}
"""Field metadata for an option added after its component (or ``TrainOptions``) shipped:
``variant: str = field(default="paper", metadata=ADDED_LATER)``. At its default it is left
out of config hashes and stage keys, so runs recorded before the option existed keep theirs."""


def options_to_dict(options: Any, *, runtime: bool = True) -> dict[str, Any]:
    """JSON-friendly dict of an options dataclass (tuples become lists).

    ``runtime=False`` (what hashes see) drops fields marked with :data:`RUNTIME` metadata, and
    fields marked :data:`ADDED_LATER` that hold their default.
    """
    out = json.loads(json.dumps(dataclasses.asdict(options), default=str))
    if not runtime:
        for f in dataclasses.fields(options):
            at_default = f.default is not dataclasses.MISSING and getattr(options, f.name) == f.default
            if f.metadata.get("runtime") or (f.metadata.get("added_later") and at_default):
                out.pop(f.name, None)
    return out


def parse_key_values(pairs: list[str] | tuple[str, ...], *, flag: str) -> dict[str, str]:
    """Parse ``["a=1", "b=x"]`` from a repeated CLI flag into a dict."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise OptionError(f"{flag} expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def stable_hash(obj: Any, length: int = 12) -> str:
    """Short, stable hash of a JSON-serialisable object (sorted keys)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
