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

from ...data.manifest import Manifest
from ...errors import DatasetLayoutError, OptionError
from ...prepare.options import PrepareOptions
from ...prepare.store import NOT_HASHED, prepared_dir, read_json, remap_to_prepared
from .layout import OutsideLinks

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

    def source_manifest(self) -> Manifest:
        """:meth:`raw_manifest` without the samples whose media lead outside the root through a
        symlink (unless ``outside_links=follow``); each one left out is one line on stderr and is
        listed in ``info["refused"]`` as (id, reason). ``prepare`` and :meth:`manifest` read this."""
        raw = self.raw_manifest()
        if self.options.outside_links == "follow" or self.root is None:
            return raw
        links = OutsideLinks(self.root)
        kept, refused = [], []
        for s in raw.samples:
            target = links.check(Path(s.path))
            if target is None:
                kept.append(s)
                continue
            reason = f"{target[0]} leads to {target[1]}, outside --root {links.inside}"
            refused.append((s.id, reason))
            print(f"refused: dataset '{self.name}' sample {s.id}: {reason}; left out "
                  f"(--dataset-opt outside_links=follow reads it)", file=sys.stderr)
        if not refused:
            return raw
        return dataclasses.replace(raw, samples=kept, info={**raw.info, "refused": refused})

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
        raw = self.source_manifest()
        if self.options.prepared == "no":
            return raw
        pdir = self.prepared_dir()
        if read_json(pdir / "prepared.json") is not None:
            prepared = remap_to_prepared(raw, pdir)
            if prepared.info["dropped"]:
                print(f"note: dataset '{self.name}': {len(prepared.info['dropped'])} of {len(raw.samples)} samples "
                      f"failed to prepare and are left out (see {pdir / 'failures.json'})", file=sys.stderr)
            if prepared.info["stale"]:
                first, why = prepared.info["stale"][0]
                print(f"note: dataset '{self.name}': {len(prepared.info['stale'])} of {len(raw.samples)} samples are left "
                      f"out because their prepared files cannot be trusted ({first}: {why}); run "
                      f"'{self.prepare_command()}' to prepare them again", file=sys.stderr)
            return prepared
        command = self.prepare_command()
        if self.options.prepared == "yes":
            raise DatasetLayoutError(f"dataset '{self.name}' is not prepared with these options (no {pdir}); run '{command}'")
        print(f"note: dataset '{self.name}' not prepared; reading raw files (run '{command}' for aligned face crops)",
              file=sys.stderr)
        return raw
