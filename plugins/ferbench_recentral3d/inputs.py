"""Inputs ``shading3d`` and ``landmarks``: per-frame re-centralized shading, face crop, landmark distances.

``shading3d`` yields, per sample of T frames::

    x                   [T, 1, 100, 100]  re-centralized shading map (Sec. 3.3), (s - 0.5) / 0.5
    face                [T, 3, F, F]      2D face crop (landmark box), ImageNet-normalised RGB
    landmark_distances  [T, 2278]         Eq. 3-4 pairwise distances of the min-max-normalised landmarks

``landmarks`` yields the same without the shading map: x is the face crop
[T, 3, F, F] and ``landmark_distances`` the side input (the paper's
"Base + Landmark" ablation, or any RGB backbone on landmark-aligned crops).

Frames: ``sampling=apex`` takes the apex and the frames 2, 4, ... before it
(the paper's OULU-CASIA protocol: first, third, fifth images in reverse
order); ``sampling=segments`` spreads T frames over the video (TSN-style).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ferbench.components import InputSignature
from ferbench.data.frame_sampling import segment_indices
from ferbench.data.manifest import Sample
from ferbench.data.video import read_frames
from ferbench.errors import FerbenchError
from ferbench.options import stable_hash

from .face_points import FacePoints, dataset_points, has_dataset_points, mesh_points
from .geometry import NUM_DISTANCES, landmark_distances, recentralize

IMAGENET_MEAN = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
CROP_SCALE, CROP_LIFT = 1.35, 0.08  # crop side / landmark box side; upward shift / side


@dataclasses.dataclass(frozen=True)
class LandmarksOptions:
    """Options of the ``landmarks`` input.

    Attributes:
        frames: T, frames per sample (the paper is single-image: T=1, the apex).
        sampling: "apex" (apex, apex-2, apex-4, ...: the paper's OULU protocol) or "segments".
        face_size: side of the 2D face crop, pixels (the paper: 100).
        points: "auto" (the sample's ground truth, else mesh), "dataset", "mesh" (MTCNN + MediaPipe, '.[mesh]' extra).
    """

    frames: int = 1
    sampling: Literal["apex", "segments"] = "apex"
    face_size: int = 100
    points: Literal["auto", "dataset", "mesh"] = "auto"


@dataclasses.dataclass(frozen=True)
class Shading3DOptions(LandmarksOptions):
    """Options of the ``shading3d`` input.

    Attributes:
        frames: T, frames per sample (the paper is single-image: T=1, the apex).
        sampling: "apex" (apex, apex-2, apex-4, ...: the paper's OULU protocol) or "segments".
        face_size: side of the 2D face crop, pixels (the paper: 100).
        points: "auto" (the sample's ground truth, else mesh), "dataset", "mesh" (MTCNN + MediaPipe, '.[mesh]' extra).
        size: side of the shading map, pixels (the paper: 100).
        neighbours: n nearest neighbours of the normal plane fit (the paper: 10).
        mask_hidden: discard surface points hidden in the original view (the paper: yes).
    """

    size: int = 100
    neighbours: int = 10
    mask_hidden: bool = True


def crop_face(frame: np.ndarray, lm2d: np.ndarray, size: int) -> torch.Tensor:
    """Square crop around the 2D landmarks, resized: uint8 [H, W, 3] -> uint8 [3, size, size].

    The crop side is 1.35x the landmark box side, shifted up by 8% to include
    the forehead; outside the frame is zero-padded.
    """
    h, w = frame.shape[:2]
    lo, hi = lm2d.min(0), lm2d.max(0)
    side = max(float((hi - lo).max()) * CROP_SCALE, 4.0)
    cx, cy = (lo + hi) / 2
    cy -= CROP_LIFT * side
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    img = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).float()
    pad = max(0, -x0, -y0, x0 + s - w, y0 + s - h)
    if pad:
        img = F.pad(img, (pad, pad, pad, pad))
        x0, y0 = x0 + pad, y0 + pad
    crop = img[:, y0 : y0 + s, x0 : x0 + s][None]
    out = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return out[0].round().clamp(0, 255).to(torch.uint8)


def apex_indices(num_frames: int, apex: int | None, t: int) -> np.ndarray:
    """int64 [T]: apex, apex-2, apex-4, ... (clipped to 0); apex None = last frame."""
    a = num_frames - 1 if apex is None else min(max(int(apex), 0), num_frames - 1)
    return np.clip(a - 2 * np.arange(t), 0, None).astype(np.int64)


class RecentralInput:
    """Shared by both inputs; ``with_shading`` selects ``shading3d`` (True) or ``landmarks``."""

    def __init__(self, options: LandmarksOptions, with_shading: bool) -> None:
        if options.frames < 1 or options.face_size < 16:
            raise FerbenchError(f"recentral3d inputs need frames >= 1 and face_size >= 16, got {options}")
        if with_shading and (options.size < 16 or options.neighbours < 3):
            raise FerbenchError(f"shading3d needs size >= 16 and neighbours >= 3, got {options}")
        self.options, self.with_shading = options, with_shading
        t, f = options.frames, options.face_size
        side = {"landmark_distances": (t, NUM_DISTANCES)}
        if with_shading:
            side["face"] = (t, 3, f, f)
            self.signature = InputSignature(1, t, options.size, options.size, side)
        else:
            self.signature = InputSignature(3, t, f, f, side)

    def cache_key(self) -> str:
        o = dataclasses.asdict(self.options)
        if o["sampling"] == "segments":
            o.pop("frames")  # every frame is processed
        return stable_hash({"shading": self.with_shading, **o, "v": 1})

    def _points(self, sample: Sample, frames: np.ndarray, keep: np.ndarray) -> FacePoints:
        """Points of ``frames`` (the media's frames ``keep``); dataset points cover every frame of the media."""
        mode = self.options.points
        if mode == "dataset" or (mode == "auto" and has_dataset_points(sample)):
            return dataset_points(sample)
        return mesh_points(sample, frames, frame_index=keep)

    def load(self, sample: Sample) -> dict[str, torch.Tensor]:
        frames = read_frames(sample.path)
        if self.options.sampling == "apex":
            keep = np.unique(apex_indices(len(frames), sample.apex, self.options.frames))
        else:
            keep = np.arange(len(frames))
        frames = frames[keep]
        pts = self._points(sample, frames, keep)
        if pts.correspondences is None:  # ground truth covers every frame of the video
            if pts.points_3d.shape[0] <= keep.max():
                raise FerbenchError(f"sample {sample.id}: landmarks file has {pts.points_3d.shape[0]} frames, "
                                    f"the video more; regenerate the dataset")
            pts = FacePoints(pts.points_3d[keep], pts.landmarks_2d[keep])
        o = self.options
        out = {
            "frame_index": torch.from_numpy(keep),
            "face": torch.stack([crop_face(fr, lm, o.face_size) for fr, lm in zip(frames, pts.landmarks_2d)]),
            "landmark_distances": torch.from_numpy(landmark_distances(pts.landmarks_2d)),
        }
        if self.with_shading:
            maps = [
                recentralize(p, size=o.size, n_neighbours=o.neighbours, correspondences=pts.correspondences,
                             mask_hidden=o.mask_hidden).shading
                for p in pts.points_3d
            ]
            out["shading"] = torch.from_numpy(np.round(np.stack(maps) * 255).astype(np.uint8))[:, None]
        return out

    def _indices(self, loaded: dict[str, torch.Tensor], train: bool, generator: torch.Generator) -> torch.Tensor:
        n, t = loaded["frame_index"].shape[0], self.options.frames
        if self.options.sampling == "apex":
            # loaded holds the unique apex frames in increasing order; the apex comes first
            idx = torch.arange(n - 1, -1, -1)
            return idx[torch.clamp(torch.arange(t), max=n - 1)]
        return segment_indices(n, t, train=train, generator=generator)

    def sample(self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
        idx = self._indices(loaded, train, generator)
        face = (loaded["face"][idx].float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        dist = loaded["landmark_distances"][idx].float()
        if not self.with_shading:
            return {"x": face.contiguous(), "landmark_distances": dist.contiguous()}
        shading = loaded["shading"][idx].float() / 127.5 - 1.0
        return {"x": shading.contiguous(), "face": face.contiguous(), "landmark_distances": dist.contiguous()}


def build_shading3d(options: Shading3DOptions) -> RecentralInput:
    return RecentralInput(options, with_shading=True)


def build_landmarks(options: LandmarksOptions) -> RecentralInput:
    return RecentralInput(options, with_shading=False)
