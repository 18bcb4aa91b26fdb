"""Training pairs (x_s, x_t, x_tg) from a fold's training samples, and the paper's augmentation.

A pair takes a source frame x_s (identity a, expression e), a target frame
x_t (identity b != a, preferably another expression) and the ground truth
x_tg: a frame of identity b showing expression e. Frames come from a
:class:`FrameBank`: per training sample, the ``apex_frames`` frames nearest
its apex (``Sample.apex``, else the last frame: CK+'s "last three frames").
Subjects and labels come from the manifest, so this works on any dataset
where subjects show several expressions (SynthFER: all of them).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch
import torch.nn.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ferbench.data.manifest import Sample
from ferbench.errors import FerbenchError

#: rotation angles of the augmentation, degrees (paper: -6, -3, 3, 6; 0 keeps the unrotated crop)
ANGLES = (-6.0, -3.0, 0.0, 3.0, 6.0)
#: crop positions: centre and four corners
CROPS = ("center", "tl", "tr", "bl", "br")


def apex_window(sample: Sample, drawn: int, k: int) -> list[int]:
    """Indices (into ``drawn`` uniformly spread frames) of the ``k`` frames nearest the apex.

    The apex is ``sample.apex`` of ``sample.num_frames`` decoded frames, mapped
    linearly onto the drawn frames; without an apex, the last frame.
    """
    if sample.apex is not None and sample.num_frames and sample.num_frames > 1:
        t = round(sample.apex / (sample.num_frames - 1) * (drawn - 1))
    else:
        t = drawn - 1
    k = min(k, drawn)
    start = min(max(t - k // 2, 0), drawn - k)
    if t == drawn - 1:
        start = drawn - k
    return list(range(start, start + k))


@dataclasses.dataclass
class FrameBank:
    """Frames of a fold's training samples.

    Attributes:
        frames: [M, C, H, W] float16 frames (in the input's value space).
        labels: [M] int64 expression labels.
        subjects: [M] int64 dense identity indices of the fold's training subjects (0..N_i-1).
        sample_of: [M] int64 index of each frame's sample in ``samples``.
        samples: the training samples.
        subject_names: dense index -> subject id.
    """

    frames: torch.Tensor
    labels: torch.Tensor
    subjects: torch.Tensor
    sample_of: torch.Tensor
    samples: list[Sample]
    subject_names: list[str]

    @classmethod
    def from_dataset(cls, dataset, apex_frames: int) -> "FrameBank":
        """From a core ``FERDataset`` (``samples``, ``cache``): each sample drawn in evaluation mode
        (deterministic frames, no augmentation), keeping the ``apex_frames`` nearest the apex."""
        samples: Sequence[Sample] = dataset.samples
        if not samples:
            raise FerbenchError("relgan: the fold has no training samples to build REL-GAN pairs from")
        names = sorted({s.subject for s in samples})
        index = {n: i for i, n in enumerate(names)}
        frames, labels, subjects, owner = [], [], [], []
        for j, s in enumerate(samples):
            if hasattr(dataset, "cache"):
                x = dataset.cache.rep.sample(dataset.cache.get(s), train=False, generator=torch.Generator().manual_seed(0))["x"]
            else:
                x = dataset[j]["x"]
            for t in apex_window(s, x.shape[0], apex_frames):
                frames.append(x[t].to(torch.float16))
                labels.append(s.label)
                subjects.append(index[s.subject])
                owner.append(j)
        return cls(torch.stack(frames), torch.tensor(labels), torch.tensor(subjects), torch.tensor(owner), list(samples), names)

    @property
    def num_identities(self) -> int:
        return len(self.subject_names)


@dataclasses.dataclass
class Pairs:
    """Bank indices [N] of x_s, x_t, x_tg, with y_s (expression of x_s) and y_t (identity of x_t)."""

    source: torch.Tensor
    target: torch.Tensor
    truth: torch.Tensor
    y_s: torch.Tensor
    y_t: torch.Tensor


class PairSampler:
    """Draws (x_s, x_t, x_tg) index triples from a :class:`FrameBank`.

    x_tg always has x_t's identity and x_s's expression (exact for SynthFER,
    whose subjects show every class). The target identity differs from the
    source's whenever another subject shows the source's expression.
    """

    def __init__(self, labels: torch.Tensor, subjects: torch.Tensor) -> None:
        self.labels, self.subjects = labels.long(), subjects.long()
        self.by_group: dict[tuple[int, int], torch.Tensor] = {}
        self.by_subject: dict[int, torch.Tensor] = {}
        for i, (b, e) in enumerate(zip(self.subjects.tolist(), self.labels.tolist())):
            self.by_group.setdefault((b, e), []).append(i)  # type: ignore[arg-type]
            self.by_subject.setdefault(b, []).append(i)  # type: ignore[arg-type]
        self.by_group = {k: torch.tensor(v) for k, v in self.by_group.items()}
        self.by_subject = {k: torch.tensor(v) for k, v in self.by_subject.items()}
        self.subjects_with: dict[int, list[int]] = {}
        for b, e in self.by_group:
            self.subjects_with.setdefault(e, []).append(b)
        if not any(len(v) > 1 for v in self.subjects_with.values()):
            raise FerbenchError(
                "relgan: no expression is shown by two training subjects, so no (source, target, ground truth) "
                "pair exists; REL-GAN needs a dataset whose subjects show several expressions (e.g. synthetic, ckplus)"
            )

    def draw(self, n: int, generator: torch.Generator) -> Pairs:
        def pick(pool: torch.Tensor | list[int]) -> int:
            return int(pool[int(torch.randint(len(pool), (1,), generator=generator))])

        src, tgt, truth, ys, yt = [], [], [], [], []
        for _ in range(n):
            s = int(torch.randint(len(self.labels), (1,), generator=generator))
            a, e = int(self.subjects[s]), int(self.labels[s])
            others = [b for b in self.subjects_with[e] if b != a] or [a]
            b = pick(others)
            pool = self.by_subject[b]
            other_expr = pool[self.labels[pool] != e]
            t = pick(other_expr if len(other_expr) else pool)
            src.append(s), tgt.append(t), truth.append(pick(self.by_group[(b, e)])), ys.append(e), yt.append(b)
        return Pairs(*(torch.tensor(v) for v in (src, tgt, truth, ys, yt)))


@dataclasses.dataclass(frozen=True)
class View:
    """One augmentation draw: crop position, rotation (degrees), horizontal flip."""

    crop: str = "center"
    angle: float = 0.0
    flip: bool = False


def random_views(n: int, generator: torch.Generator) -> list[View]:
    """``n`` draws uniformly over the 5 crops x 5 angles x 2 flips of the paper's augmentation."""
    c = torch.randint(len(CROPS), (n,), generator=generator).tolist()
    a = torch.randint(len(ANGLES), (n,), generator=generator).tolist()
    f = torch.randint(2, (n,), generator=generator).tolist()
    return [View(CROPS[i], ANGLES[j], bool(k)) for i, j, k in zip(c, a, f)]


def augment(x: torch.Tensor, size: int, views: Sequence[View]) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, size, size]: resize to size*17/16, cut a size x size crop (centre or a
    corner), rotate, flip (per ``views[i]``). ``View()`` gives the evaluation view of ``networks.fit_to``."""
    out = torch.stack([img for img, _ in _crops(x, size, views)])
    # one rotation call per angle (not per image): the same result, a fraction of the time
    for angle in sorted({v.angle for v in views if v.angle}):
        idx = [i for i, v in enumerate(views) if v.angle == angle]
        out[idx] = TF.rotate(out[idx], angle, interpolation=InterpolationMode.BILINEAR)
    flips = [i for i, v in enumerate(views) if v.flip]
    if flips:
        out[flips] = TF.horizontal_flip(out[flips])
    return out


def _crops(x: torch.Tensor, size: int, views: Sequence[View]):
    """(crop [C, size, size], view) per image: resized to size*17/16, then the view's crop."""
    m = size // 32
    big = F.interpolate(x.float(), size=(size + 2 * m, size + 2 * m), mode="bilinear", align_corners=False, antialias=True)
    offsets = {"center": (m, m), "tl": (0, 0), "tr": (0, 2 * m), "bl": (2 * m, 0), "br": (2 * m, 2 * m)}
    for img, view in zip(big, views):
        top, left = offsets[view.crop]
        yield img[:, top : top + size, left : left + size], view


def augment_per_image(x: torch.Tensor, size: int, views: Sequence[View]) -> torch.Tensor:
    """:func:`augment` image by image (one rotation call per image): the reference it must equal
    (tests) and the slower implementation it replaced (``benchmarks/relgan_augment_speed.py``)."""
    out = []
    for img, view in _crops(x, size, views):
        if view.angle:
            img = TF.rotate(img, view.angle, interpolation=InterpolationMode.BILINEAR)
        if view.flip:
            img = TF.horizontal_flip(img)
        out.append(img)
    return torch.stack(out)
