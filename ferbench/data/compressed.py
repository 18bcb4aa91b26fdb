"""Compressed-domain extraction: GOP structure, motion-vector maps and residuals.

Decodes a video with PyAV while FFmpeg exports the codec's motion vectors
(``flags2=+export_mvs``) and walks its group-of-pictures (GOP) structure.
Per P-frame ``t`` it produces (conventions of the IFERCV / CoViAR papers):

* ``mv`` — the motion field T^t as a map [H, W, 2] (dx, dy) in pixels at frame
  resolution: each exported block's vector is broadcast over the block's
  pixels. Sign convention: T^t = dst - src, i.e. the displacement of the
  content from the reference frame to frame t (an object moving 3 px to the
  right has dx = +3). FFmpeg stores ``motion_x / motion_scale = src - dst``;
  ``motion_scale`` (2 for half-pel MPEG-4, 4 for quarter-pel H.264) is
  respected, so vectors are fractional.
* ``residual`` — Δ^t = P^t - MC(P^{t-1}, T^t): the prediction error left
  after block motion compensation of the previous decoded frame, where
  MC(P^{t-1}, T^t)_i = P^{t-1}_{i - T^t_i} (bilinear at fractional positions,
  borders clamped). Units: 8-bit RGB levels, float32 in [-255, 255].
* ``residual_acc`` (optional) — the residual accumulated back to the GOP's
  I-frame as in compressed-video action recognition (CoViAR): the source
  positions are chained through the P-frames since the I-frame (nearest
  lookup, sub-pixel remainder carried), and Δ_acc^t = P^t - I(src_acc^t).

Intra blocks: FFmpeg exports vectors only for inter-coded blocks; pixels no
vector covers are intra-coded. Their true intra prediction is not exported,
so ``intra="colocated"`` (default) predicts them from the co-located pixel of
the previous frame (zero motion: the residual is the frame difference), and
``intra="raw"`` predicts zero (the residual is the frame itself).

Limits, checked with one-line :class:`CompressedDomainError`\\ s: B-frames
(a past-and-future reference cannot be compensated from the previous frame:
re-encode with ``bf=0``), and videos with no P-frame (all-intra). With
several reference frames (libx264 ``ref > 1``) FFmpeg does not export which
reference a vector points to; the previous frame is used (exact for MPEG-4
Part 2 and for ``ref=1`` H.264).

The residual is computed from decoded frames (PyAV does not expose the coded
DCT residual), so extraction costs one decode plus a warp. To keep that cheap,
every frame is decoded but only the frames a request needs are converted to
RGB (one swscale context per video, not one per frame), the block vectors of all
P-frames are painted in one vectorised pass (:func:`ferbench.data.motion.paint_blocks`), and the
residuals of all P-frames are one batched ``grid_sample`` (:func:`ferbench.data.motion.warp_residuals`).
The array maths (vector maps, compensation, residuals) lives in :mod:`ferbench.data.motion`.
``extract(..., p_frames=...)`` restricts the work to the P-frames a test-time
sampler picks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter

from ..errors import VideoDecodeError
from .motion import (
    best_reference,
    bilinear_sample,
    chain_sources,
    motion_cells,
    pixel_grid,
    select_per_pixel,
    upsample_cells,
    warp_residuals,
)


class CompressedDomainError(VideoDecodeError):
    """A video whose compressed domain cannot be used (B-frames, no P-frame, no motion vectors)."""


@dataclasses.dataclass
class CompressedVideo:
    """What :func:`extract` returns for one video (N decoded frames, P of them P-frames).

    Attributes:
        frame_types: picture type of every decoded frame, ``"I"`` or ``"P"`` ([N]).
        gop_index: int64 [N], the GOP (0-based, one per I-frame) each frame belongs to.
        p_index: int64 [P], decoded-frame positions of the P-frames.
        i_index: int64 [G], decoded-frame positions of the I-frames.
        p_rows: int64 [R], the P-frames (positions in ``p_index``) that the rows of ``mv``,
            ``covered``, ``residual`` and ``residual_acc`` hold: all P-frames (R = P) unless
            :func:`extract` got ``p_frames``.
        mv: float32 [P, H, W, 2] (dx, dy) pixels, T = dst - src; None if not requested.
        covered: bool [P, H, W], pixels an exported (inter) vector covers; None if mv not requested.
        residual: float32 [P, H, W, 3] RGB levels; None if not requested.
        residual_acc: float32 [P, H, W, 3] RGB levels; None if not requested.
        iframes: uint8 [G, H, W, 3] decoded I-frames; None if not requested.
        frames: uint8 [len(keep_frames), H, W, 3] decoded frames asked for by position.
    """

    frame_types: list[str]
    gop_index: np.ndarray
    p_index: np.ndarray
    i_index: np.ndarray
    p_rows: np.ndarray | None = None
    mv: np.ndarray | None = None
    covered: np.ndarray | None = None
    residual: np.ndarray | None = None
    residual_acc: np.ndarray | None = None
    iframes: np.ndarray | None = None
    frames: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return len(self.frame_types)


def _per_frame(types: list[str], rgb: dict, field: np.ndarray, blocks: np.ndarray, c: int, want_residual: bool,
               accumulate: bool, intra: str, refs: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Frame-by-frame path (``refs > 1`` or ``accumulate``) over all P-frames, in decode order.

    Args:
        types: picture type per decoded frame; rgb: position -> uint8 [H, W, 3] for every frame;
        field, blocks, c: :func:`motion_cells` of every P-frame.

    Returns:
        (residual with the best of ``refs`` references, accumulated residual), float32 [P, H, W, 3]
        each, or None when not asked for.
    """
    h, w = rgb[0].shape[:2]
    res, accs = [], []
    history: list[np.ndarray] = []  # decoded frames since the I-frame, newest first
    acc_hist: list[np.ndarray] = []  # their accumulated source maps (same order)
    iframe = None
    j = 0
    for pos, kind in enumerate(types):
        cur = rgb[pos]
        if kind == "I":
            iframe, history = cur, [cur]
            acc_hist = [np.stack(pixel_grid(h, w), -1)]
            continue
        f, cov, ids = (upsample_cells(a[j : j + 1], c, h, w)[0] for a in (field, blocks >= 0, blocks))
        j += 1
        choice = None
        if want_residual or len(history) > 1:
            pred, choice = best_reference(cur, history, f, cov, ids, intra)
            if want_residual:
                res.append(cur.astype(np.float32) - pred)
        if accumulate:
            chained = [chain_sources(a, f) for a in acc_hist]
            src = chained[0] if choice is None or len(chained) == 1 else select_per_pixel(chained, choice)
            pred_i = bilinear_sample(iframe, src[..., 0], src[..., 1])
            if intra == "raw":
                pred_i[~cov] = 0.0
            accs.append(cur.astype(np.float32) - pred_i)
            acc_hist = ([src] + acc_hist)[:refs]
        history = ([cur] + history)[:refs]
    return (np.stack(res) if want_residual else None), (np.stack(accs) if accumulate else None)


# --------------------------------------------------------------------------- decoding

_PICTURE_TYPES = {int(t): t.name for t in av.video.frame.PictureType}
_MOTION_VECTORS = av.sidedata.sidedata.Type.MOTION_VECTORS
#: FFmpeg's ``AVMotionVector`` (the dtype of PyAV's ``MotionVectors.to_ndarray``, built once here)
AV_MOTION_VECTOR = np.dtype([("source", "<i4"), ("w", "u1"), ("h", "u1"), ("src_x", "<i2"), ("src_y", "<i2"),
                             ("dst_x", "<i2"), ("dst_y", "<i2"), ("flags", "<u8"), ("motion_x", "<i4"),
                             ("motion_y", "<i4"), ("motion_scale", "<u2")], align=True)


def _picture_type(frame: av.VideoFrame) -> str:
    name = _PICTURE_TYPES.get(int(frame.pict_type), "NONE")
    if frame.key_frame and name not in ("I", "P", "B"):
        return "I"
    return name


def _decode(path: Path, threads: int) -> tuple[list[str], list, list]:
    """Decode every frame with motion-vector export: (types "I"/"P", av frames, vector records per P-frame)."""
    types: list[str] = []
    frames: list = []
    vectors: list = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise CompressedDomainError(f"no video stream in {path}: the file is not a video")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            ctx.options = {"flags2": "+export_mvs"}  # before the first decode
            if threads:
                ctx.thread_count = threads
            for frame in container.decode(stream):
                kind = _picture_type(frame)
                if kind == "B":
                    raise CompressedDomainError(
                        f"{path} has B-frames (frame {len(types)}); compressed-domain inputs need I+P GOPs: "
                        "re-encode with B-frames off (ffmpeg -bf 0, libx264 bf=0)"
                    )
                if kind != "P" or not types:
                    kind = "I"  # a P-frame with no decoded reference is treated as a GOP start
                else:
                    sd = frame.side_data.get(_MOTION_VECTORS)
                    vectors.append(np.frombuffer(sd, AV_MOTION_VECTOR) if sd is not None else None)
                types.append(kind)
                frames.append(frame)
    except CompressedDomainError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as err:
        if not types:
            raise CompressedDomainError(f"cannot decode {path}: {err} (the file is corrupt or truncated; re-create it)") from None
        # a truncated tail: keep what decoded
    if not types:
        raise CompressedDomainError(f"video has no frames: {path} (the file is empty; re-create it)")
    if "P" not in types:
        raise CompressedDomainError(
            f"{path} has no P-frames (all {len(types)} frames are intra-coded); compressed-domain inputs need "
            "I+P GOPs: re-encode with a GOP longer than 1 (ffmpeg -g 8 -bf 0)"
        )
    return types, frames, vectors


def extract(
    path: str | Path,
    *,
    want_mv: bool = True,
    want_residual: bool = True,
    accumulate: bool = False,
    want_iframes: bool = True,
    keep_frames: tuple[int, ...] = (),
    intra: str = "colocated",
    refs: int = 1,
    threads: int = 0,
    p_frames: Sequence[int] | Callable[[int], Sequence[int]] | None = None,
) -> CompressedVideo:
    """Decode ``path`` once and extract its compressed-domain representations.

    Every frame is decoded (the codec needs them all); only the frames a request needs
    are converted to RGB (one shared swscale context), block vectors are painted for all
    P-frames at once, and the residuals of all P-frames are one batched warp.

    Args:
        path: video file (H.264 I+P or MPEG-4 Part 2 I+P; any container FFmpeg reads).
        want_mv: return the per-P-frame motion fields (and ``covered``).
        want_residual: return Δ^t per P-frame.
        accumulate: also return the residual accumulated to the GOP's I-frame.
        want_iframes: return the decoded I-frames.
        keep_frames: decoded-frame positions to return as RGB too (e.g. the apex;
            negative positions count from the end).
        intra: prediction of intra (uncovered) pixels, see :func:`ferbench.data.motion.motion_compensate`.
        refs: candidate reference frames per block (1 = the previous frame, exact for
            MPEG-4 Part 2 and ``ref=1`` H.264; libx264's default is ``ref=3``), see
            :func:`ferbench.data.motion.best_reference`. References never cross an I-frame.
        threads: decoder threads (0 = FFmpeg's choice, 1 = single core).
        p_frames: which P-frames (positions 0..P-1 in ``p_index``, repeats allowed) to return
            mv/residual rows for, or a function ``P -> positions`` (e.g. a test-time frame
            sampler); None = all. With ``refs=1`` and no ``accumulate`` only these P-frames and
            their references are converted and warped.

    Raises:
        CompressedDomainError: B-frames, no P-frame, or an undecodable file (one line each).
    """
    path = Path(path)
    if intra not in ("colocated", "raw"):
        raise ValueError(f"intra must be 'colocated' or 'raw', got {intra!r}")
    if not path.is_file():
        raise CompressedDomainError(f"video not found: {path} (check the dataset root or re-run 'ferbench prepare')")
    types, decoded, vectors = _decode(path, threads)
    count = len(types)
    p_index = np.array([i for i, k in enumerate(types) if k == "P"], np.int64)
    i_index = np.array([i for i, k in enumerate(types) if k == "I"], np.int64)
    gop_index = np.cumsum([k == "I" for k in types]) - 1
    rows = np.arange(len(p_index))
    if p_frames is not None:
        rows = np.asarray(p_frames(len(p_index)) if callable(p_frames) else p_frames, np.int64).reshape(-1)
        if rows.size and not (0 <= rows.min() and rows.max() < len(p_index)):
            raise ValueError(f"p_frames {rows.tolist()} out of range for {len(p_index)} P-frames of {path}")
    kept = [k if k >= 0 else count + k for k in keep_frames]
    bad = [k for k, pos in zip(keep_frames, kept) if not 0 <= pos < count]
    if bad:
        raise CompressedDomainError(f"{path}: frame {bad[0]} asked for, but the video has {count} frames")
    slow = accumulate or (want_residual and refs > 1)  # frame by frame over every P-frame
    need = set(kept) | (set(i_index.tolist()) if want_iframes else set())
    if slow:
        need = set(range(count))
    elif want_residual:
        need |= set(p_index[rows].tolist()) | set((p_index[rows] - 1).tolist())
    h, w = decoded[0].height, decoded[0].width
    reformatter = VideoReformatter()  # one swscale context for the whole video
    rgb = {i: reformatter.reformat(decoded[i], format="rgb24").to_ndarray() for i in sorted(need)}
    decoded.clear()
    out = CompressedVideo(frame_types=types, gop_index=gop_index, p_index=p_index, i_index=i_index, p_rows=rows)
    if want_mv or want_residual or accumulate:
        field, blocks, c = motion_cells([vectors[j] for j in (range(len(p_index)) if slow else rows.tolist())], h, w)
        sub = rows if slow else slice(None)  # rows of field / blocks holding the selected P-frames
        if want_mv:
            out.mv, out.covered = upsample_cells(field[sub], c, h, w), upsample_cells(blocks[sub] >= 0, c, h, w)
        if want_residual and refs == 1:
            order = sorted(need)
            lut = np.zeros(count, np.int64)
            lut[order] = np.arange(len(order))
            chw = np.empty((len(order), 3, h, w), np.float32)
            for j, i in enumerate(order):
                chw[j] = rgb[i].transpose(2, 0, 1)  # one pass: to planar float32
            cur = p_index[rows]
            res = warp_residuals(torch.from_numpy(chw), lut[cur], lut[cur - 1], field[sub], c,
                                 (blocks[sub] >= 0) if intra == "raw" else None)
            out.residual = res.permute(0, 2, 3, 1).numpy()
        if slow:
            res, acc = _per_frame(types, rgb, field, blocks, c, want_residual and refs > 1, accumulate, intra, refs)
            if res is not None:
                out.residual = res[rows]
            if acc is not None:
                out.residual_acc = acc[rows]
    if want_iframes:
        out.iframes = np.stack([rgb[i] for i in i_index.tolist()])
    if kept:
        out.frames = np.stack([rgb[i] for i in kept])
    return out


def decode_rgb(path: str | Path, threads: int = 0, *, shared_context: bool = True) -> np.ndarray:
    """Plain decode to RGB, uint8 [N, H, W, 3] (the baseline :func:`extract` is timed against).

    ``shared_context``: convert with one swscale context for the whole video (as
    :func:`extract` does); False: PyAV's ``frame.to_ndarray(format="rgb24")``, which sets up a
    new context per frame (as :func:`ferbench.data.video.read_video` does). Same pixels.
    """
    out = []
    reformatter = VideoReformatter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if threads:
            stream.codec_context.thread_count = threads
        for frame in container.decode(stream):
            if shared_context:
                out.append(reformatter.reformat(frame, format="rgb24").to_ndarray())
            else:
                out.append(frame.to_ndarray(format="rgb24"))
    return np.stack(out)
