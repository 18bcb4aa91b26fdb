"""What is in a cache folder, how big it is, when it was last used, and removing it.

The cache (``--cache-dir``, ``$FERBENCH_CACHE``, ``~/.cache/ferbench``) holds::

    synthetic/<preset>-<hash>/            generated SynthFER datasets (options.json)
    prepared/<dataset>-<hash>/            prepared face tracks (prepared.json)
    inputs/<dataset>/<input>-<key>-npy/   decoded inputs (cache.json; touched by every run using it)
    inputs/<dataset>/<input>-<key>/       decoded inputs of the earlier .pt layout (no longer read)
    stages/<dataset>/fold<k>/<kind>-<stage>-<key>.pt   pre-trained stages (autoencoder, GAN, ...)

:func:`inventory` lists one :class:`CacheEntry` per such thing (stage files are
grouped by kind, stage and key over their folds); :func:`remove` deletes
entries. "Last used" is the newest modification time inside an entry (for input
caches, also their ``cache.json``, which each run touches).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import time
from pathlib import Path

from .data.disk_cache import INFO_FILE, LAYOUT_SUFFIX, read_info
from .errors import FerbenchError

KINDS = ("synthetic", "prepared", "inputs", "stages", "other")
_STAGE_FILE = re.compile(r"^(?P<group>.+)-(?P<key>[0-9a-f]{6,})\.pt$")
_AGE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([smhdw]?)\s*$")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}


@dataclasses.dataclass
class CacheEntry:
    """One removable thing in the cache.

    Attributes:
        kind: one of :data:`KINDS`.
        dataset: the dataset it belongs to ('' when unknown).
        what: what it is, with its options (``"input rgb size=112"``).
        paths: the folders or files it consists of.
        bytes: size on disk (apparent).
        files: number of files.
        last_used: newest modification time inside (seconds since the epoch).
    """

    kind: str
    dataset: str
    what: str
    paths: list[Path]
    bytes: int = 0
    files: int = 0
    last_used: float = 0.0

    @property
    def location(self) -> Path:
        """The folder that holds it (a stage group: the dataset's stage folder)."""
        return self.paths[0] if len(self.paths) == 1 else self.paths[0].parent.parent


def _scan(path: Path) -> tuple[int, int, float]:
    """(bytes, files, newest mtime) under ``path`` (a file or a folder; symbolic links not followed)."""
    try:
        st = path.lstat()
    except OSError:
        return 0, 0, 0.0
    if not path.is_dir() or path.is_symlink():
        return st.st_size, 1, st.st_mtime
    total, files, newest = 0, 0, st.st_mtime
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                        continue
                    s = e.stat(follow_symlinks=False)
                    total, files, newest = total + s.st_size, files + 1, max(newest, s.st_mtime)
        except OSError:
            continue
    return total, files, newest


def _options_text(options: dict, limit: int = 6) -> str:
    items = [f"{k}={v}" for k, v in sorted(options.items())][:limit]
    more = len(options) - limit
    return " ".join(items) + (f" (+{more} more)" if more > 0 else "")


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def _synthetic(folder: Path) -> CacheEntry:
    name = folder.name.rsplit("-", 1)[0]
    options = _read_json(folder / "options.json")
    shown = {k: options[k] for k in ("subjects", "videos_per_class", "frames", "size", "seed") if k in options}
    return CacheEntry("synthetic", name, f"SynthFER {_options_text(shown)}".strip(), [folder])


def _prepared(folder: Path) -> CacheEntry:
    summary = _read_json(folder / "prepared.json")
    dataset = summary.get("dataset") or folder.name.rsplit("-", 1)[0]
    state = f"root {summary['root']}" if summary.get("root") else "unfinished (no prepared.json)"
    return CacheEntry("prepared", str(dataset), f"face tracks, {state}", [folder])


def _inputs(dataset_dir: Path) -> list[CacheEntry]:
    out = []
    for folder in _subdirs(dataset_dir):
        info = read_info(folder)
        if info is not None:
            opts = _options_text(info.get("options") or {})
            what = (f"input {info.get('component', '?')} [key {info.get('cache_key', '?')}]"
                    + (f" first used with {opts}" if opts else ""))
        elif folder.name.endswith(f"-{LAYOUT_SUFFIX}"):
            what = f"input {folder.name.split('-')[0]} (no {INFO_FILE})"
        else:
            what = f"input {folder.name.split('-')[0]} (earlier .pt layout, no longer read)"
        out.append(CacheEntry("inputs", dataset_dir.name, what, [folder]))
    return out


def _stages(dataset_dir: Path) -> list[CacheEntry]:
    groups: dict[tuple[str, str], list[Path]] = {}
    for fold_dir in _subdirs(dataset_dir):
        for f in sorted(fold_dir.glob("*.pt")):
            m = _STAGE_FILE.match(f.name)
            key = (m.group("group"), m.group("key")) if m else (f.stem, "")
            groups.setdefault(key, []).append(f)
    out = []
    for (group, key), files in sorted(groups.items()):
        folds = sorted(f.parent.name for f in files)
        out.append(CacheEntry("stages", dataset_dir.name, f"stage {group.replace('-', '/', 1)} [{key}] "
                                                          f"({len(folds)} fold{'s' if len(folds) != 1 else ''})", files))
    return out


def inventory(cache_dir: Path) -> list[CacheEntry]:
    """Every entry of the cache at ``cache_dir``, with sizes and last use."""
    cache_dir = Path(cache_dir).expanduser()
    entries: list[CacheEntry] = []
    for top in _subdirs(cache_dir):
        if top.name == "synthetic":
            entries += [_synthetic(f) for f in _subdirs(top)]
        elif top.name == "prepared":
            entries += [_prepared(f) for f in _subdirs(top)]
        elif top.name == "inputs":
            for d in _subdirs(top):
                entries += _inputs(d)
        elif top.name == "stages":
            for d in _subdirs(top):
                entries += _stages(d)
        else:
            entries.append(CacheEntry("other", "", f"folder {top.name}", [top]))
    for e in entries:
        for p in e.paths:
            b, n, t = _scan(p)
            e.bytes, e.files, e.last_used = e.bytes + b, e.files + n, max(e.last_used, t)
    return entries


def parse_age(text: str) -> float:
    """``"30d"`` / ``"12h"`` / ``"90m"`` / ``"2w"`` / ``"45s"`` (a bare number is days) -> seconds.

    Raises:
        FerbenchError: not an age.
    """
    m = _AGE.match(str(text))
    if not m:
        raise FerbenchError(f"--older-than {text!r} is not an age; use e.g. 30d, 12h, 90m or 2w")
    return float(m.group(1)) * _AGE_UNITS[m.group(2)]


def select(entries: list[CacheEntry], *, kind: str | None = None, dataset: str | None = None,
           older_than: float | None = None, now: float | None = None) -> list[CacheEntry]:
    """The entries of ``kind`` and ``dataset`` not used for ``older_than`` seconds (None: any)."""
    now = time.time() if now is None else now
    return [e for e in entries
            if (kind is None or e.kind == kind) and (dataset is None or e.dataset == dataset)
            and (older_than is None or now - e.last_used >= older_than)]


def remove(entry: CacheEntry) -> None:
    """Delete an entry's folders and files (empty parent folders of stage files too)."""
    for p in entry.paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
            try:
                p.parent.rmdir()  # a fold folder left empty
            except OSError:
                pass
