"""Generate SynthFER: plan the videos, render them (parallel, resumable, cached), write the manifest.

Layout of one generated dataset::

    <cache_dir>/synthetic/<name>-<hash of options>/
        options.json               the generator options (without ``workers``)
        videos/s03_v005.mp4        one clip per sample
        landmarks/s03_v005.npz     per-frame ground truth of that clip
        manifest.json              written last; its presence means "complete"

The hash covers every option except ``workers`` plus the generator version,
so a cache built with other options is never reused. Each video is written
to a temporary file and renamed (landmarks first, video second); a killed run
leaves only complete files and a rerun renders just the missing ones.

Class counts (``imbalance``): class ``c`` (in label order) has
``round(n_max * imbalance ** (-c / (K - 1)))`` scoreable videos, where
``n_max = round(subjects * videos_per_class)``; videos are dealt to subjects
round-robin so every subject has about the same number.

Identity bias (``identity_bias = b``): every subject gets two views of the
same size ``n`` (its number of uniform videos). The *test view* is the
uniform videos, marked ``test_only=True`` (scored, never trained on). The
*training view* is ``n`` further videos, marked ``train_only=True`` (trained
on, never scored), whose labels are the uniform ones with non-favoured
entries switched to the subject's favoured class until a fraction
``max(b, n_fav / n)`` shows it (which classes stay rotates over subjects,
see :func:`biased_labels`). Under the subject-independent k-fold
protocol a subject is either all-train or all-test, so a training fold sees
``n`` videos per subject, a fraction ~b of them of the subject's favoured
class, while test subjects are scored on their uniform videos: the training
set has the same size as with ``b = 0`` and only the class mix per subject
changes. Favoured classes rotate over subjects (subject ``i`` favours class
``i mod K``), so the overall class balance of a training fold barely moves
and identity alone predicts the label.

Label noise (``label_noise = p``): exactly ``round(p * N)`` of the N samples
that can be trained on (not ``test_only``) get ``label`` replaced by a uniformly drawn other class;
their ``true_label`` holds the rendered class and ``meta["flipped"]`` is
True. Unflipped samples have ``true_label=None``.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
from pathlib import Path
from typing import Callable

import av
import numpy as np

from ...data.manifest import Manifest, ProtocolSpec, Sample
from ...options import stable_hash
from .action_units import AU_NAMES
from .clip import VideoPlan, render_clip, subject_identity, subject_name
from .encode import write_video
from .options import SynthOptions

_NOISE_STREAM = 3
_BIAS_STREAM = 4


def dataset_dir(options: SynthOptions, name: str, cache_dir: str | Path) -> Path:
    """Generation folder of dataset ``name`` with ``options`` under ``cache_dir``."""
    return Path(cache_dir) / "synthetic" / f"{name}-{stable_hash(options.cache_dict())}"


def class_counts(options: SynthOptions) -> list[int]:
    """Number of scoreable videos per class (label order)."""
    k = len(options.classes)
    n_max = max(1, round(options.subjects * options.videos_per_class))
    return [max(1, round(n_max * options.imbalance ** (-c / (k - 1)))) for c in range(k)]


def biased_labels(labels: list[int], favoured: int, b: float, shift: int, k: int,
                  rng: np.random.Generator) -> list[int]:
    """The training view of a subject: ``labels`` with non-favoured entries switched to
    ``favoured`` until a fraction ``max(b, current share)`` of them shows it (order kept).

    The entries kept are those whose class follows ``favoured`` (cyclically, starting
    ``shift`` classes on; ties broken by ``rng``), so subjects that favour the same class
    (``shift = subject // k``) keep different classes and the class totals stay balanced.
    """
    out = list(labels)
    keep = len(out) - min(len(out), max(out.count(favoured), round(b * len(out))))
    others = [j for j, c in enumerate(out) if c != favoured]
    tie = rng.permutation(len(others))
    order = sorted(range(len(others)), key=lambda n: ((out[others[n]] - favoured - 1 - shift) % k, tie[n]))
    for n in order[keep:]:
        out[others[n]] = favoured
    return out


def plan_videos(options: SynthOptions) -> list[VideoPlan]:
    """Every video of the dataset, deterministic in ``options`` (cheap, renders nothing)."""
    k, s = len(options.classes), options.subjects
    per_subject: list[list[int]] = [[] for _ in range(s)]
    dealt = 0
    for c, count in enumerate(class_counts(options)):
        for _ in range(count):
            per_subject[dealt % s].append(c)
            dealt += 1
    raw: list[tuple[int, int, int, str, int | None]] = []  # subject, video, class, role, favoured
    for i, labels in enumerate(per_subject):
        if options.identity_bias <= 0:
            raw.extend((i, j, c, "both", None) for j, c in enumerate(labels))
            continue
        favoured = i % k
        view = biased_labels(labels, favoured, options.identity_bias, i // k, k,
                             np.random.default_rng([options.seed, _BIAS_STREAM, i]))
        raw.extend((i, j, c, "test", favoured) for j, c in enumerate(labels))
        raw.extend((i, len(labels) + j, c, "train", favoured) for j, c in enumerate(view))
    labels = [r[2] for r in raw]
    trainable = [n for n, r in enumerate(raw) if r[3] != "test"]
    rng = np.random.default_rng([options.seed, _NOISE_STREAM])
    flip = rng.permutation(len(trainable))[: round(options.label_noise * len(trainable))]
    for idx in sorted(trainable[f] for f in flip.tolist()):
        labels[idx] = (raw[idx][2] + int(rng.integers(1, k))) % k
    return [
        VideoPlan(id=f"{subject_name(i)}_v{j:03d}", subject_index=i, video_index=j, true_label=c,
                  label=labels[n], train_only=role == "train", test_only=role == "test", favoured=f)
        for n, (i, j, c, role, f) in enumerate(raw)
    ]


def _paths(root: Path, plan: VideoPlan) -> tuple[Path, Path]:
    return root / "videos" / f"{plan.id}.mp4", root / "landmarks" / f"{plan.id}.npz"


def _render_and_write(options: SynthOptions, plan: VideoPlan, root: Path) -> None:
    video, marks = _paths(root, plan)
    clip = render_clip(options, plan)
    tmp = marks.with_name(f".{marks.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, landmarks_2d=clip.landmarks_2d, landmarks_3d=clip.landmarks_3d,
             landmarks_canonical=clip.landmarks_canonical, head_pose=clip.head_pose, aus=clip.aus,
             onset=clip.track.onset, apex=clip.track.apex, offset=clip.track.offset,
             intensity=clip.intensity, expression_weight=clip.track.weight.astype(np.float32))
    os.replace(tmp, marks)
    write_video(video, clip.frames, fps=options.fps, gop=options.gop, codec=options.codec, quality=options.quality)


def _pool_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def render_missing(options: SynthOptions, plans: list[VideoPlan], root: Path,
                   log: Callable[[str], None] | None = None) -> list[str]:
    """Render the videos of ``plans`` whose files are missing; returns their ids."""
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "landmarks").mkdir(parents=True, exist_ok=True)
    todo = [p for p in plans if not all(path.exists() for path in _paths(root, p))]
    if log and todo:
        log(f"synthetic: rendering {len(todo)} of {len(plans)} videos into {root} ({options.workers} workers)")
    if options.workers > 1 and len(todo) > 1:
        workers = min(options.workers, len(todo))
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=_pool_context()) as pool:
            futures = [pool.submit(_render_and_write, options, p, root) for p in todo]
            for future in futures:
                future.result()
    else:
        for p in todo:
            _render_and_write(options, p, root)
    return [p.id for p in todo]


def _sample(options: SynthOptions, plan: VideoPlan, root: Path) -> Sample:
    video, marks = _paths(root, plan)
    with np.load(marks) as z:
        onset, apex, offset, intensity = int(z["onset"]), int(z["apex"]), int(z["offset"]), float(z["intensity"])
    classes = options.classes
    flipped = plan.label != plan.true_label
    meta = {
        "profile": options.profile, "onset": onset, "offset": offset, "intensity": round(intensity, 4),
        "flipped": flipped, "landmarks": str(marks), "video_index": plan.video_index,
        "favoured_class": None if plan.favoured is None else classes[plan.favoured],
        "resting_class": subject_identity(options, plan.subject_index).resting_class,
    }
    return Sample(id=plan.id, path=str(video), label=plan.label, subject=plan.subject, split=None, apex=apex,
                  num_frames=options.frames, true_label=plan.true_label if flipped else None,
                  train_only=plan.train_only, test_only=plan.test_only, meta=meta)


def build_manifest(options: SynthOptions, name: str, root: Path, plans: list[VideoPlan]) -> Manifest:
    """The manifest of generated videos (all files must exist)."""
    info = {
        "generator": "SynthFER",
        "preset": name,
        "options": options.cache_dict(),
        "class_counts": class_counts(options),
        "au_names": list(AU_NAMES),
        "landmarks_npz": {
            "landmarks_2d": "float32 [T, 68, 2] pixel x, y (pixel centres at integers)",
            "landmarks_3d": "float32 [T, 68, 3] posed, pixels, z toward the camera",
            "landmarks_canonical": "float32 [T, 68, 3] expression-deformed, pose-free, face units",
            "head_pose": "float32 [T, 3] yaw, pitch, roll, degrees",
            "aus": "float32 [T, num_aus] AU intensities (au_names)",
            "expression_weight": "float32 [T] expression strength in [0, 1]",
        },
        "versions": {"av": av.__version__, "numpy": np.__version__,
                     "libavcodec": ".".join(map(str, av.library_versions.get("libavcodec", ())))},
    }
    return Manifest(
        dataset=name, classes=options.classes, samples=[_sample(options, p, root) for p in plans],
        protocol=ProtocolSpec(kind="kfold", folds=options.folds, headline_metric="war"),
        modality="video", root=str(root), info=info,
    )


def generate(options: SynthOptions, name: str, cache_dir: str | Path,
             log: Callable[[str], None] | None = None) -> Manifest:
    """Generate (or reuse) dataset ``name`` and return its manifest."""
    root = dataset_dir(options, name, cache_dir)
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        try:
            return Manifest.load(manifest_path)
        except (ValueError, TypeError, KeyError):
            pass  # a damaged manifest: regenerate what is missing and rewrite it
    root.mkdir(parents=True, exist_ok=True)
    _atomic_write(root / "options.json", json.dumps(options.cache_dict(), sort_keys=True, indent=1))
    plans = plan_videos(options)
    render_missing(options, plans, root, log)
    manifest = build_manifest(options, name, root, plans)
    _atomic_write(manifest_path, manifest.to_json())
    return manifest


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class SynthFERDataset:
    """Dataset adapter: ``manifest()`` generates on first call and reuses the cache afterwards."""

    def __init__(self, options: SynthOptions, name: str, cache_dir: str | Path,
                 log: Callable[[str], None] | None = None) -> None:
        self.options, self.name, self.cache_dir, self.log = options, name, Path(cache_dir), log

    @property
    def root(self) -> Path:
        """The generation folder."""
        return dataset_dir(self.options, self.name, self.cache_dir)

    def manifest(self) -> Manifest:
        return generate(self.options, self.name, self.cache_dir, self.log)
