"""The base of every real-dataset adapter: prepare options and the prepared/raw switch.

An adapter lists the dataset's samples from its official layout
(:meth:`RealDataset.raw_manifest`: folder scans and label files, no decoding).
:meth:`RealDataset.manifest` then points the samples at the face crops that
``ferbench prepare`` wrote, when they exist (``prepared=auto``), see
:mod:`ferbench.prepare.store`.
"""

from __future__ import annotations

import abc

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Literal

from ...data.manifest import Manifest
from ...errors import DatasetLayoutError, OptionError
from ...prepare.store import NOT_HASHED, prepared_dir, read_json, remap_to_prepared

PREPARE_DOC = """
        prepared: "auto" (face crops from 'ferbench prepare' when present, else raw files), "yes" (require them), "no" (raw files).
        face_size: side of the square aligned face crop, pixels.
        margin: crop side = margin x the larger side of the (eye-aligned) MTCNN box.
        smooth: centred moving-average window over frames for boxes and landmarks (1 = none).
        min_face: smallest face MTCNN looks for, pixels (of the detection-scale frame).
        detect_side: frames whose longer side exceeds this are downscaled for detection (pixels).
        gop: GOP of the re-encoded face track (an I-frame every gop frames, P-frames between).
        crf: libx264 constant rate factor of the face track (lower = better quality).
        fps: frame rate written for datasets of image sequences (videos keep theirs).
        no_face: item with no face in any frame: "fail" (reported, left out) or "full" (centre square of the whole frame).
"""


@dataclasses.dataclass(frozen=True)
class PrepareOptions:
    __doc__ = "Options of 'ferbench prepare' shared by every real-dataset adapter.\n\n    Attributes:" + PREPARE_DOC

    prepared: Literal["auto", "yes", "no"] = "auto"
    face_size: int = 112
    margin: float = 1.3
    smooth: int = 5
    min_face: int = 20
    detect_side: int = 360
    gop: int = 12
    crf: int = 18
    fps: int = 25
    no_face: Literal["fail", "full"] = "fail"

    def __post_init__(self) -> None:
        if self.face_size < 16 or self.face_size % 2 or self.margin <= 0 or self.smooth < 1 or self.gop < 1 or self.fps < 1:
            raise OptionError(
                f"prepare options need an even face_size >= 16, margin > 0, smooth >= 1, gop >= 1, fps >= 1; got "
                f"face_size={self.face_size}, margin={self.margin}, smooth={self.smooth}, gop={self.gop}, fps={self.fps}"
            )


def options_doc(summary: str, own: str) -> str:
    """Docstring of an adapter's options class: its own ``Attributes:`` lines plus the prepare ones."""
    return f"{summary}\n\n    Attributes:\n{own.rstrip()}{PREPARE_DOC}"


class RealDataset(abc.ABC):
    """Adapter base. Subclasses set :attr:`hint` and implement :meth:`raw_manifest`.

    Attributes:
        name: the dataset component name (``afew``).
        hint: what ``--root`` must hold, for error lines.
        apex_convention: ``"last"``, ``"middle"`` or None; recorded in ``Manifest.info``.
    """

    hint = "the dataset"
    apex_convention: str | None = None

    def __init__(self, name: str, options: PrepareOptions, root: Path | None, cache_dir: Path) -> None:
        if not isinstance(options, PrepareOptions):
            raise OptionError(f"dataset '{name}': options must be {PrepareOptions.__name__}, got {type(options).__name__}")
        self.name = name
        self.options = options
        self.root = None if root is None else Path(root).expanduser()
        self.cache_dir = Path(cache_dir).expanduser()

    @abc.abstractmethod
    def raw_manifest(self) -> Manifest:
        """Samples on the raw files of the official layout (each adapter reads its own)."""

    def option_flags(self) -> str:
        """`` --dataset-opt key=value`` for every option that differs from its default (``prepared`` aside):
        everything that decides the raw manifest and the prepared folder's key."""
        defaults = type(self.options)()
        flags = []
        for f in dataclasses.fields(self.options):
            value = getattr(self.options, f.name)
            if f.name not in NOT_HASHED and value != getattr(defaults, f.name):
                flags.append(f" --dataset-opt {shlex.quote(f'{f.name}={value}')}")
        return "".join(flags)

    def _command(self, verb: str) -> str:
        root = shlex.quote(str(self.root)) if self.root is not None else "PATH"
        return f"ferbench {verb} --dataset {self.name} --root {root}{self.option_flags()}"

    def prepare_command(self) -> str:
        """The ``ferbench prepare`` command that writes this adapter's prepared folder."""
        return self._command("prepare")

    def run_command(self) -> str:
        """A ``ferbench run`` command that reads this adapter's prepared folder."""
        return self._command("run")

    def prepared_dir(self) -> Path:
        if self.root is None:
            raise DatasetLayoutError(f"dataset '{self.name}' needs --root PATH: the folder that holds {self.hint}")
        return prepared_dir(self.cache_dir, self.name, self.root, self.options)

    def manifest(self) -> Manifest:
        raw = self.raw_manifest()
        if self.options.prepared == "no":
            return raw
        pdir = self.prepared_dir()
        if read_json(pdir / "prepared.json") is not None:
            prepared = remap_to_prepared(raw, pdir)
            if prepared.info["dropped"]:
                print(f"note: dataset '{self.name}': {len(prepared.info['dropped'])} of {len(raw.samples)} samples "
                      f"failed to prepare and are left out (see {pdir / 'failures.json'})", file=sys.stderr)
            return prepared
        command = self.prepare_command()
        if self.options.prepared == "yes":
            raise DatasetLayoutError(f"dataset '{self.name}' is not prepared with these options (no {pdir}); run '{command}'")
        print(f"note: dataset '{self.name}' not prepared; reading raw files (run '{command}' for aligned face crops)",
              file=sys.stderr)
        return raw
