"""Where the per-frame face points come from.

* ``dataset``: ground truth shipped with the sample (SynthFER writes
  ``Sample.meta["landmarks"]``, an npz with ``landmarks_2d`` [T, 68, 2] pixels
  and ``landmarks_3d`` [T, 68, 3] pixels, z toward the camera).
* ``mesh``: a real estimator for real faces: facenet-pytorch's MTCNN finds the
  face box, MediaPipe 0.10.14's legacy face mesh (model inside the wheel,
  offline) returns 468 3D points inside it. 68 of them stand in for the
  iBUG 68-point layout (:data:`MESH_TO_68`).

Both give :class:`FacePoints` in original-image pixels, x right, y down, z
toward the camera. MediaPipe's native log lines (TFLite's "Created ...
delegate", absl's "W0000 ... inference_feedback_manager") and protobuf's
deprecation warning are silenced (:func:`quiet_native_logs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ferbench.data.manifest import Sample
from ferbench.errors import FerbenchError

MESH_HINT = "install the optional extra: pip install -e '.[mesh]' (MediaPipe 0.10.14 face mesh)"

#: MediaPipe face-mesh vertex standing in for each iBUG-68 landmark (jaw 17, brows 5+5,
#: nose bridge 4, nostrils 5, eyes 6+6, outer lips 12, inner lips 8); subject's right first.
MESH_TO_68 = np.array([
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
])


@dataclasses.dataclass(frozen=True)
class FacePoints:
    """Per-frame face geometry of one sample (original-image pixels).

    Attributes:
        points_3d: float64 [T, K, 3] posed 3D points (x right, y down, z toward the camera).
        landmarks_2d: float64 [T, 68, 2] 2D landmarks (x, y).
        correspondences: indices of the 68 template landmarks in ``points_3d`` (None: K = 68, identity).
    """

    points_3d: np.ndarray
    landmarks_2d: np.ndarray
    correspondences: np.ndarray | None = None


def has_dataset_points(sample: Sample) -> bool:
    path = (sample.meta or {}).get("landmarks")
    return bool(path) and Path(path).is_file()


def dataset_points(sample: Sample) -> FacePoints:
    """Ground-truth points from ``sample.meta["landmarks"]`` (SynthFER npz)."""
    path = (sample.meta or {}).get("landmarks")
    if not path or not Path(path).is_file():
        raise FerbenchError(
            f"sample {sample.id} has no ground-truth landmarks file (meta['landmarks']={path!r}); "
            "use --input-opt points=mesh for real faces"
        )
    with np.load(path) as z:
        if "landmarks_3d" not in z or "landmarks_2d" not in z:
            raise FerbenchError(f"{path}: expected arrays landmarks_2d [T,68,2] and landmarks_3d [T,68,3]")
        return FacePoints(z["landmarks_3d"].astype(np.float64), z["landmarks_2d"].astype(np.float64))


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (MediaPipe's C++ code logs there,
    past Python) and ignore protobuf's ``GetPrototype() is deprecated`` warning.

    Python exceptions still propagate; nothing else should write to stderr meanwhile
    (the block is one face-mesh call).
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr: nothing to silence
        saved = None
    devnull = os.open(os.devnull, os.O_WRONLY) if saved is not None else None
    try:
        if saved is not None:
            os.dup2(devnull, 2)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated", category=UserWarning)
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


class MeshEstimator:
    """MTCNN face box + MediaPipe face mesh: RGB image -> 468 posed 3D points in pixels."""

    def __init__(self, margin: float = 0.25) -> None:
        try:
            with quiet_native_logs():
                import mediapipe as mp  # noqa: F401
        except ImportError:
            raise FerbenchError(f"points=mesh needs MediaPipe, which is not installed; {MESH_HINT}") from None
        from facenet_pytorch import MTCNN

        self.margin = margin
        self.detector = MTCNN(keep_all=False, device="cpu", post_process=False)
        with quiet_native_logs():  # the graph starts (and logs from its own threads) on the first call: make it here
            self.mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False)
            self.mesh.process(np.zeros((64, 64, 3), np.uint8))

    def box(self, image: np.ndarray) -> tuple[int, int, int, int]:
        """Square face box (x0, y0, x1, y1) with ``margin`` around MTCNN's box; whole image if none."""
        h, w = image.shape[:2]
        boxes, _ = self.detector.detect(image)
        if boxes is None or len(boxes) == 0:
            return 0, 0, w, h
        x0, y0, x1, y1 = boxes[0]
        cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * (1 + 2 * self.margin)
        return (int(max(0, cx - side / 2)), int(max(0, cy - side / 2)),
                int(min(w, cx + side / 2)), int(min(h, cy + side / 2)))

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        """uint8 [H, W, 3] RGB -> float64 [468, 3] (pixels, z toward the camera) or None if no face."""
        x0, y0, x1, y1 = self.box(image)
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        if crop.shape[0] < 2 or crop.shape[1] < 2:
            return None
        with quiet_native_logs():
            result = self.mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        cw, ch = x1 - x0, y1 - y0
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([[p.x * cw + x0, p.y * ch + y0, -p.z * cw] for p in lm], dtype=np.float64)
        return pts


@functools.lru_cache(maxsize=1)
def mesh_estimator() -> MeshEstimator:
    return MeshEstimator()


def mesh_points(sample: Sample, frames: np.ndarray, frame_index: Sequence[int] | None = None) -> FacePoints:
    """Estimate 468 points per frame of ``frames`` (uint8 [T, H, W, 3]) with the face mesh.

    ``frame_index`` [T]: each frame's index in the sample's media (default 0..T-1), named
    in the error. Raises FerbenchError (a per-sample failure for the engine) when a frame has no face.
    """
    est = mesh_estimator()
    index = list(range(len(frames))) if frame_index is None else [int(i) for i in frame_index]
    pts = []
    for t, frame in zip(index, frames):
        try:
            p = est(frame)
        except FerbenchError:
            raise
        except Exception as err:  # noqa: BLE001 - MediaPipe/MTCNN failing on one frame fails this sample only
            raise FerbenchError(f"sample {sample.id}: the face mesh failed on frame {t} of {sample.path} "
                                f"({type(err).__name__}: {err}); check the media") from None
        if p is None:
            raise FerbenchError(f"sample {sample.id}: no face found by the face mesh in frame {t} of {sample.path}; "
                                "check the media or crop the faces first")
        pts.append(p)
    points = np.stack(pts)
    return FacePoints(points, points[:, MESH_TO_68, :2], MESH_TO_68)
