"""Shared helpers of the real-dataset adapters: expected paths, label maps, file listing.

Every check that can fail raises :class:`~ferbench.errors.DatasetLayoutError`
with one line naming the dataset, the path that was expected and the fix.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Callable, Iterable

from ...data.manifest import Sample, apex_index
from ...data.video import IMAGE_SUFFIXES
from ...errors import DatasetLayoutError

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".wmv")

#: canonical class names (every adapter maps its dataset's labels onto these)
ANGER, CONTEMPT, DISGUST, FEAR, HAPPINESS, NEUTRAL, SADNESS, SURPRISE = (
    "anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
)

#: folder / file spellings used by the datasets -> canonical class name
ALIASES = {
    "angry": ANGER, "anger": ANGER, "an": ANGER,
    "contempt": CONTEMPT, "co": CONTEMPT,
    "disgust": DISGUST, "disgusted": DISGUST, "di": DISGUST,
    "fear": FEAR, "fearful": FEAR, "fe": FEAR,
    "happy": HAPPINESS, "happiness": HAPPINESS, "ha": HAPPINESS,
    "neutral": NEUTRAL, "ne": NEUTRAL,
    "sad": SADNESS, "sadness": SADNESS, "sa": SADNESS,
    "surprise": SURPRISE, "surprised": SURPRISE, "su": SURPRISE,
}


def canonical(name: str) -> str | None:
    """Canonical class name of a dataset's spelling (``"Angry"`` -> ``"anger"``), or None."""
    return ALIASES.get(name.strip().lower())


def require_root(dataset: str, root: Path | None, hint: str) -> Path:
    """The dataset root, or one error line when it is unset or missing.

    Args:
        dataset: adapter name (for the message).
        root: the ``--root`` given by the user.
        hint: what the root should contain, e.g. ``"Train_AFEW/ and Val_AFEW/"``.
    """
    if root is None:
        raise DatasetLayoutError(f"dataset '{dataset}' needs --root PATH: the folder that holds {hint}")
    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise DatasetLayoutError(f"dataset '{dataset}': root {root} is a file, not a folder; pass the folder that holds {hint}")
    if not root.is_dir():
        raise DatasetLayoutError(f"dataset '{dataset}': root {root} does not exist; expected a folder that holds {hint}")
    return root


class OutsideLinks:
    """Finds a sample's media that lead outside the dataset root through a symlink.

    About one ``lstat`` per file: each folder is resolved once and remembered
    (a 290k-image dataset is checked in seconds).

    Args:
        root: the dataset root as given (it may itself be a symlink; its target is the inside).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.inside = os.path.realpath(self.root)
        self._prefix = self.inside.rstrip(os.sep) + os.sep
        self._dirs: dict[str, str] = {}

    def _is_inside(self, target: str) -> bool:
        return target == self.inside or target.startswith(self._prefix)

    def _resolved_dir(self, folder: str) -> str:
        if folder not in self._dirs:
            self._dirs[folder] = os.path.realpath(folder)
        return self._dirs[folder]

    def _leaves(self, path: str, is_link: bool) -> bool:
        """True when ``path`` (a file or folder whose own lstat said ``is_link``) resolves outside the root."""
        if is_link:
            return not self._is_inside(os.path.realpath(path))
        head, name = os.path.split(path)
        return not self._is_inside(os.path.join(self._resolved_dir(head), name))

    def check(self, path: Path) -> tuple[Path, Path] | None:
        """(symlink, where it leads) when ``path``, or an image of ``path`` if it is a frame folder,
        resolves outside the root through a symlink at or below the root; None when it stays inside."""
        path = os.path.abspath(path)
        try:
            st = os.lstat(path)
        except OSError:
            return None  # a missing file is the decoder's problem, not a link's
        is_link = stat.S_ISLNK(st.st_mode)
        bad = path if self._leaves(path, is_link) else None
        if bad is None and (stat.S_ISDIR(st.st_mode) or is_link and os.path.isdir(path)):
            with os.scandir(path) as entries:
                for e in entries:
                    if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES and self._leaves(e.path, e.is_symlink()):
                        bad = e.path
                        break
        if bad is None:
            return None
        m = Path(bad)
        below_root = [a for a in reversed([m, *m.parents]) if a != self.root and a.is_relative_to(self.root)]
        link = next((a for a in below_root if a.is_symlink() and not self._is_inside(os.path.realpath(a))), m)
        return link, link.resolve()


def require_dir(dataset: str, path: Path, what: str) -> Path:
    """``path`` if it is a folder, else one error line naming it."""
    if not path.is_dir():
        raise DatasetLayoutError(f"dataset '{dataset}': expected {what} at {path}, not found (check --root)")
    return path


def require_file(dataset: str, path: Path, what: str) -> Path:
    """``path`` if it is a file, else one error line naming it."""
    if not path.is_file():
        raise DatasetLayoutError(f"dataset '{dataset}': expected {what} at {path}, not found (check --root)")
    return path


def find_child(dataset: str, parent: Path, names: Iterable[str], what: str) -> Path:
    """The first existing child of ``parent`` among ``names`` (case-insensitive)."""
    names = list(names)
    if parent.is_dir():
        by_lower = {p.name.lower(): p for p in parent.iterdir()}
        for n in names:
            if n.lower() in by_lower:
                return by_lower[n.lower()]
    raise DatasetLayoutError(
        f"dataset '{dataset}': expected {what} at {parent / names[0]} (or {', '.join(names[1:]) or 'nothing else'}), "
        f"not found (check --root)"
    )


def natural_key(text: str) -> list:
    """Sort key that orders ``frame2`` before ``frame10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def images_in(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, in natural order."""
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                  key=lambda p: natural_key(p.name))


def videos_in(folder: Path) -> list[Path]:
    """Video files directly in ``folder``, in natural order."""
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
                  key=lambda p: natural_key(p.name))


def subdirs(folder: Path) -> list[Path]:
    """Sub-folders of ``folder`` (hidden ones skipped), in natural order."""
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: natural_key(p.name))


def subject_sequences(parent: Path, classes: list[str], apex_convention: str) -> list[Sample]:
    """Samples of a ``parent/<subject>/<expression>/<frames>`` layout (Oulu-CASIA, BU-4DFE).

    Expression folders named by any class alias; unknown names and empty folders are skipped.
    Each sample is one image-sequence folder, apex by ``apex_convention``.
    """
    samples = []
    for subject in subdirs(parent):
        for expr in subdirs(subject):
            name = canonical(expr.name)
            frames = images_in(expr)
            if name not in classes or not frames:
                continue
            samples.append(Sample(id=f"{subject.name}_{expr.name}", path=str(expr), label=classes.index(name),
                                  subject=subject.name, apex=apex_index(apex_convention, len(frames)),
                                  num_frames=len(frames), meta={"apex_convention": apex_convention}))
    return samples


def class_folders(dataset: str, split_dir: Path, classes: list[str]) -> dict[int, Path]:
    """Map class index -> class folder under ``split_dir`` (folders named by any alias, any case).

    Every class must have a folder; a missing one is one error line naming it.
    """
    found: dict[int, Path] = {}
    for d in subdirs(require_dir(dataset, split_dir, "a split folder")):
        name = canonical(d.name)
        if name in classes:
            found[classes.index(name)] = d
    missing = [c for i, c in enumerate(classes) if i not in found]
    if missing:
        raise DatasetLayoutError(
            f"dataset '{dataset}': expected a class folder for {', '.join(missing)} in {split_dir} "
            f"(e.g. {split_dir / missing[0].capitalize()}), not found (check --root)"
        )
    return found


def split_class_files(
    dataset: str,
    root: Path,
    splits: dict[str, tuple[str, ...]],
    classes: list[str],
    files_in: Callable[[Path], list[Path]],
) -> list[tuple[str, int, Path]]:
    """(split, label, file) for a ``<split>/<class>/<file>`` layout (AFEW, SFEW).

    ``splits`` maps each split to its accepted folder names; ``files_in`` lists a
    class folder's media (``videos_in`` or ``images_in``).
    """
    out = []
    for split, names in splits.items():
        split_dir = find_child(dataset, root, names, f"the {split} split folder")
        for label, folder in sorted(class_folders(dataset, split_dir, classes).items()):
            out.extend((split, label, f) for f in files_in(folder))
    return out
