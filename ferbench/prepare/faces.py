"""Face detection with facenet-pytorch's MTCNN (weights ship inside its wheel; CPU).

:meth:`FaceDetector.detect` returns, per frame, every face found (a
:class:`~ferbench.prepare.tracker.FrameFaces`: boxes ``[M, 4]`` as (x1, y1,
x2, y2) in source-frame pixels, 5-point landmarks ``[M, 5, 2]`` (left eye,
right eye, nose, left mouth corner, right mouth corner; image left/right) and
probabilities ``[M]``). It works on any run of frames, so a stream can be fed
chunk by chunk; :mod:`.tracker` turns the per-frame faces into the clip's face.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .tracker import FrameFaces, follow

#: frames per MTCNN batch (all frames of one item have the same size)
BATCH = 16


class FaceDetector:
    """MTCNN on CPU.

    Args:
        min_face: smallest face searched, pixels of the detection-scale frame.
        detect_side: frames whose longer side exceeds this are downscaled before detection.
        threshold: minimum face probability kept.
    """

    def __init__(self, min_face: int = 20, detect_side: int = 360, threshold: float = 0.9) -> None:
        from facenet_pytorch import MTCNN

        self.mtcnn = MTCNN(keep_all=True, device="cpu", min_face_size=min_face, select_largest=False)
        self.detect_side = detect_side
        self.threshold = threshold

    def detect(self, frames: np.ndarray) -> list[FrameFaces]:
        """Every face of every frame of uint8 ``frames`` [N, H, W, 3] (one size): one FrameFaces per frame, source pixels."""
        n, h, w = frames.shape[:3]
        scale = min(1.0, self.detect_side / max(h, w))
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            frames = np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR)) for f in frames])
        out = []
        for start in range(0, n, BATCH):
            boxes, probs, points = self.mtcnn.detect(frames[start:start + BATCH], landmarks=True)
            for b, p, q in zip(boxes, probs, points):
                if b is None:
                    out.append(FrameFaces.none())
                    continue
                b, q, p = np.asarray(b, float), np.asarray(q, float), np.asarray(p, float)
                keep = p >= self.threshold
                out.append(FrameFaces(b[keep] / scale, q[keep] / scale, p[keep]))
        return out

    def track(self, frames: np.ndarray, min_iou: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The clip's face (see :mod:`.tracker`): boxes [N, 4], points [N, 5, 2], probs [N], NaN rows where not found."""
        return follow(self.detect(frames), min_iou)
