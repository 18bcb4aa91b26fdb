"""Typed option parsing from key=value strings."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from ferbench.errors import OptionError
from ferbench.options import build_options, options_to_dict, parse_key_values, stable_hash


@dataclasses.dataclass(frozen=True)
class Opts:
    frames: int = 8
    lr: float = 1e-3
    flip: bool = True
    mode: Literal["a", "b"] = "a"
    sizes: tuple[int, ...] = (1, 2)
    path: str | None = None


def test_strings_are_coerced_to_field_types():
    o = build_options(Opts, {"frames": "16", "lr": "0.5", "flip": "false", "mode": "b", "sizes": "3,4", "path": "none"})
    assert o == Opts(frames=16, lr=0.5, flip=False, mode="b", sizes=(3, 4), path=None)


def test_unknown_key_names_closest_field():
    with pytest.raises(OptionError, match="did you mean 'frames'"):
        build_options(Opts, {"frame": "3"}, owner="input 'rgb'")


@pytest.mark.parametrize("key,value", [("frames", "2.5"), ("flip", "maybe"), ("mode", "c"), ("lr", "fast")])
def test_bad_values_are_rejected(key, value):
    with pytest.raises(OptionError, match=key):
        build_options(Opts, {key: value})


def test_round_trip_and_hash():
    o = Opts(frames=4)
    assert build_options(Opts, options_to_dict(o)) == o
    assert stable_hash({"a": 1, "b": 2}) == stable_hash({"b": 2, "a": 1})
    assert parse_key_values(["a=1", "b = x=y"], flag="--x") == {"a": "1", "b": "x=y"}
    with pytest.raises(OptionError):
        parse_key_values(["novalue"], flag="--input-opt")
