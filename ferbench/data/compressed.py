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
P-frames are painted in one vectorised pass (:func:`paint_blocks`), and the
residuals of all P-frames are one batched ``grid_sample`` (:func:`warp_residuals`).
``extract(..., p_frames=...)`` restricts the work to the P-frames a test-time
sampler picks.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import numpy as np
import torch
import torch.nn.functional as F
from av.video.reformatter import VideoReformatter

from ..errors import VideoDecodeError

MV_FIELDS = ("source", "w", "h", "src_x", "src_y", "dst_x", "dst_y", "motion_x", "motion_y", "motion_scale")


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


# --------------------------------------------------------------------------- motion-vector maps


def _past_vectors(vector_lists: list) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ``AVMotionVector`` records -> (past-referencing records concatenated, frame row of each)."""
    parts = [v for v in vector_lists if v is not None and len(v)]
    if not parts:
        return np.zeros(0, [(f, "<i4") for f in MV_FIELDS]), np.zeros(0, np.int64)
    dtype = parts[0].dtype
    if all(x.dtype == dtype for x in parts):  # one buffer: ~40x faster than concatenating structured arrays
        v = np.frombuffer(b"".join([x.tobytes() for x in parts]), dtype)
    else:
        v = np.concatenate(parts)
    frame = np.repeat(np.arange(len(vector_lists)), [0 if x is None else len(x) for x in vector_lists])
    past = v["source"] < 0
    return (v, frame) if past.all() else (v[past], frame[past])


def paint_blocks(frame: np.ndarray, x0: np.ndarray, y0: np.ndarray, bw: np.ndarray, bh: np.ndarray,
                 num_frames: int, height: int, width: int) -> np.ndarray:
    """Paint rectangular blocks on ``num_frames`` grids, vectorised (no Python loop over blocks).

    Args:
        frame: int64 [B], the grid each block belongs to, non-decreasing (blocks grouped by grid).
        x0, y0, bw, bh: int64 [B], top-left corner and size in grid cells; blocks may stick out
            of the grid (negative corners, past the edge): they are clipped.
        num_frames, height, width: number and size of the grids.

    Returns:
        int64 [num_frames, height, width]: on each cell the index, among its grid's blocks, of
        the last block that covers it (the result of painting the blocks one after the
        other, later blocks over earlier ones); -1 where no block does.
    """
    xs, xe = np.clip(x0, 0, width), np.clip(x0 + bw, 0, width)
    ys, ye = np.clip(y0, 0, height), np.clip(y0 + bh, 0, height)
    nw = np.maximum(xe - xs, 0)
    n = nw * np.maximum(ye - ys, 0)  # cells per (clipped) block
    counts = np.bincount(frame, minlength=num_frames)
    local = np.arange(len(frame)) - np.repeat(np.cumsum(counts) - counts, counts)  # block index within its grid
    blk = np.repeat(np.arange(len(frame)), n)  # one entry per painted cell
    k = np.arange(blk.size) - np.repeat(np.cumsum(n) - n, n)  # its position inside the block, row-major
    nwb = nw[blk]
    cells = (frame[blk] * height + ys[blk] + k // nwb) * width + xs[blk] + k % nwb
    ids = np.full(num_frames * height * width, -1, np.int64)
    np.maximum.at(ids, cells, local[blk])  # ids grow in painting order: the maximum is the last painter
    return ids.reshape(num_frames, height, width)


def motion_cells(vector_lists: list, height: int, width: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Motion fields of F frames on a grid of c x c pixel cells (c = 4 when every block is 4-aligned).

    Args:
        vector_lists: F structured arrays of ``AVMotionVector`` records (or None: no vectors);
            only past-referencing vectors (``source < 0``) are used.
        height, width: frame size in pixels.

    Returns:
        ``(field, blocks, c)``: float32 [F, ceil(H/c), ceil(W/c), 2] (dx, dy) = dst - src in pixels
        (``-motion / motion_scale``, 0 where uncovered), int64 [F, ceil(H/c), ceil(W/c)] the block id
        (row among the frame's past-referencing vectors, -1 where uncovered), and the cell size c.
        All H.264 and MPEG-4 Part 2 blocks are 4-aligned (c = 4); otherwise c = 1.
    """
    v, frame = _past_vectors(vector_lists)
    bw, bh = v["w"].astype(np.int64), v["h"].astype(np.int64)
    x0, y0 = v["dst_x"].astype(np.int64) - bw // 2, v["dst_y"].astype(np.int64) - bh // 2
    c = 1 if len(v) and int(np.bitwise_or.reduce(x0 | y0 | bw | bh)) & 3 else 4
    hc, wc = -(-height // c), -(-width // c)
    ids = paint_blocks(frame, x0 // c, y0 // c, bw // c, bh // c, len(vector_lists), hc, wc)
    scale = np.maximum(v["motion_scale"].astype(np.float32), 1.0)
    table = np.zeros((len(v) + 1, 2), np.float32)  # row 0: uncovered, zero motion
    table[1:, 0] = -v["motion_x"].astype(np.float32) / scale
    table[1:, 1] = -v["motion_y"].astype(np.float32) / scale
    counts = np.bincount(frame, minlength=len(vector_lists))
    first = (np.cumsum(counts) - counts)[:, None, None]  # row of each frame's first vector in the table
    field = np.take(table, np.where(ids >= 0, ids + first + 1, 0), axis=0)
    return field, ids, c


def mv_map(vectors: np.ndarray, height: int, width: int, *, return_blocks: bool = False):
    """Broadcast one frame's exported block vectors to a per-pixel motion field.

    Args:
        vectors: FFmpeg ``AVMotionVector`` records (structured array with at least
            :data:`MV_FIELDS`; ``dst_x, dst_y`` are block centres, ``w, h`` block sizes).
            Only past-referencing vectors (``source < 0``) are used.
        height, width: frame size in pixels.

    Returns:
        ``(field, covered)``: float32 [H, W, 2] with (dx, dy) = dst - src in pixels
        (``-motion / motion_scale``), and bool [H, W], True where a vector covers the pixel;
        with ``return_blocks`` also int64 [H, W] block ids (row in the past-referencing
        vectors, -1 where uncovered).
    """
    field, ids, c = motion_cells([vectors], height, width)
    field, covered = _upsample(field, c, height, width)[0], _upsample(ids >= 0, c, height, width)[0]
    return (field, covered, _upsample(ids, c, height, width)[0]) if return_blocks else (field, covered)


def _upsample(a: np.ndarray, c: int, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour x``c`` upsampling of axes 1 and 2 of [F, h, w, ...], cropped to ``height`` x ``width``."""
    if c == 1:
        return a
    big = np.repeat(np.repeat(a, c, 1), c, 2)
    if big.shape[1:3] != (height, width):
        big = np.ascontiguousarray(big[:, :height, :width])
    return big


# --------------------------------------------------------------------------- residual maths


def bilinear_sample(image: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """``image`` [H, W, C] sampled at float positions ``sx, sy`` [H', W'] (borders clamped) -> [H', W', C] float32.

    Runs ``torch.nn.functional.grid_sample`` (bilinear, border padding, aligned
    corners): the same maths as a numpy gather, ~5x faster on one core.
    """
    h, w = image.shape[:2]
    grid = torch.empty((1,) + tuple(np.shape(sx)) + (2,), dtype=torch.float32)
    grid[0, ..., 0] = torch.from_numpy(np.asarray(sx, np.float32)) * (2.0 / max(w - 1, 1)) - 1.0
    grid[0, ..., 1] = torch.from_numpy(np.asarray(sy, np.float32)) * (2.0 / max(h - 1, 1)) - 1.0
    src = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    out = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out[0].permute(1, 2, 0).contiguous().numpy()


@functools.lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel x and y coordinates, float32 [H, W] each (cached, read-only)."""
    ys, xs = np.mgrid[0:height, 0:width]
    xs, ys = xs.astype(np.float32), ys.astype(np.float32)
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys


def motion_compensate(
    reference: np.ndarray, field: np.ndarray, covered: np.ndarray, intra: str = "colocated"
) -> np.ndarray:
    """MC(reference, T)_i = reference_{i - T_i}: the block-copy prediction of the next frame.

    Args:
        reference: [H, W, C] previous decoded frame.
        field: float32 [H, W, 2] (dx, dy) = dst - src, pixels.
        covered: bool [H, W], where ``field`` comes from an exported vector.
        intra: prediction of uncovered (intra) pixels: ``"colocated"`` (zero motion) or ``"raw"`` (zero).

    Returns:
        float32 [H, W, C] prediction.
    """
    gx, gy = _grid(*reference.shape[:2])
    dx = np.where(covered, field[..., 0], 0.0)
    dy = np.where(covered, field[..., 1], 0.0)
    pred = bilinear_sample(reference, gx - dx, gy - dy)
    if intra == "raw":
        pred[~covered] = 0.0
    elif intra != "colocated":
        raise ValueError(f"intra must be 'colocated' or 'raw', got {intra!r}")
    return pred


def residual(current: np.ndarray, reference: np.ndarray, field: np.ndarray, covered: np.ndarray,
             intra: str = "colocated") -> np.ndarray:
    """Δ = current - MC(reference, field): float32 [H, W, C] in signed RGB levels."""
    return current.astype(np.float32) - motion_compensate(reference, field, covered, intra)


def best_reference(
    current: np.ndarray, references: list[np.ndarray], field: np.ndarray, covered: np.ndarray,
    blocks: np.ndarray | None, intra: str = "colocated",
) -> tuple[np.ndarray, np.ndarray]:
    """Motion-compensated prediction when a vector may point to one of several past frames.

    FFmpeg exports only the direction of a vector, not which reference frame it
    uses (H.264 ``ref > 1``). Each block takes the candidate reference (newest
    first) whose compensation gives the smallest sum of absolute errors over
    the block; uncovered (intra) pixels use the newest reference.

    Args:
        current: [H, W, 3] frame t.
        references: [H, W, 3] frames t-1, t-2, ... (at least one).
        field, covered, blocks: from :func:`mv_map` (``return_blocks=True``).

    Returns:
        ``(prediction float32 [H, W, 3], choice int64 [H, W])`` with the reference index per pixel.
    """
    preds = [motion_compensate(r, field, covered, intra) for r in references]
    choice = np.zeros(covered.shape, np.int64)
    if len(preds) == 1 or not covered.any():
        return preds[0], choice
    cur = current.astype(np.float32)
    ids = blocks[covered]
    nb = int(ids.max()) + 1
    sad = np.stack([np.bincount(ids, weights=np.abs(cur - p).sum(-1)[covered], minlength=nb) for p in preds])
    choice[covered] = sad.argmin(0)[ids]
    return select_per_pixel(preds, choice), choice


def select_per_pixel(candidates: list[np.ndarray], choice: np.ndarray) -> np.ndarray:
    """Per-pixel pick among R arrays [H, W, C]: ``out[y, x] = candidates[choice[y, x]][y, x]`` (flat ``np.take``)."""
    h, w = choice.shape
    flat = np.stack(candidates).reshape(len(candidates) * h * w, -1)
    return np.take(flat, choice.ravel() * (h * w) + np.arange(h * w), axis=0).reshape(h, w, -1)


#: pixels per grid_sample call in :func:`warp_residuals` (bounds its temporaries to ~100 MB)
CHUNK_PIXELS = 1 << 21


@functools.lru_cache(maxsize=8)
def _base_grid(height: int, width: int, c: int) -> np.ndarray:
    """``grid_sample`` coordinates of every pixel (aligned corners), float32 [ceil(H/c), c, W, 2] (read-only)."""
    hc = -(-height // c)
    gx, gy = _grid(hc * c, width)
    sx, sy = 2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)
    base = np.stack([gx * sx - 1.0, gy * sy - 1.0], -1).reshape(hc, c, width, 2)
    base.flags.writeable = False
    return base


def _pieces(current: np.ndarray, reference: np.ndarray, step: int) -> list[tuple[int, int, bool]]:
    """Split R rows into pieces ``(a, b, sliced)`` of at most ``step`` rows; ``sliced`` when rows a..b-1
    of ``current`` and of ``reference`` are consecutive (then both are plain slices, no gather)."""
    breaks = np.flatnonzero((np.diff(current) != 1) | (np.diff(reference) != 1)) + 1
    runs = np.split(np.arange(len(current)), breaks)
    if len(runs) > max(1, len(current) // 4):  # short runs (sampled frames): gather, fewer calls
        return [(a, min(a + step, len(current)), False) for a in range(0, len(current), step)]
    return [(int(r[a]), int(r[min(a + step, len(r)) - 1]) + 1, True) for r in runs for a in range(0, len(r), step)]


def warp_residuals(frames: torch.Tensor, current: np.ndarray, reference: np.ndarray, field: np.ndarray, c: int,
                   covered: np.ndarray | None = None) -> torch.Tensor:
    """Δ = frames[current] - MC(frames[reference], T) for R frames at once (batched :func:`residual`).

    Same maths as :func:`residual` (bilinear block copy, borders clamped, intra pixels
    co-located), one ``grid_sample`` per run of consecutive frames (at most
    :data:`CHUNK_PIXELS` pixels each).

    Args:
        frames: [M, 3, H, W] decoded RGB frames (uint8 or float32 levels).
        current, reference: int64 [R], rows of ``frames`` of each P-frame and of its reference.
        field: float32 [R, ceil(H/c), ceil(W/c), 2] (dx, dy) = dst - src per c x c cell, 0 where
            uncovered (:func:`motion_cells`).
        c: cell size in pixels.
        covered: bool [R, ceil(H/c), ceil(W/c)] for ``intra="raw"`` (uncovered pixels predicted 0);
            None for ``intra="colocated"``.

    Returns:
        float32 [R, 3, H, W] residuals in signed RGB levels.
    """
    h, w = frames.shape[-2:]
    base = _base_grid(h, w, c)
    hc = base.shape[0]
    scale = np.array([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], np.float32)
    frames = frames.float()
    out = torch.empty((len(current), 3, h, w), dtype=torch.float32)
    for a, b, sliced in _pieces(current, reference, max(1, CHUNK_PIXELS // (h * w))):
        # T * scale per cell, repeated c times along x as one complex64 (dx, dy) item, then [r, hc, W, 2]
        moved = np.repeat((field[a:b] * scale).view(np.complex64)[..., 0], c, axis=2)[:, :, :w]
        moved = moved.view(np.float32).reshape(b - a, hc, w, 2)
        grid = np.subtract(base, moved[:, :, None]).reshape(b - a, hc * c, w, 2)[:, :h]
        if sliced:
            ref, cur = frames[reference[a] : reference[a] + b - a], frames[current[a] : current[a] + b - a]
        else:  # index_select: ~5x faster than frames[rows]
            ref = frames.index_select(0, torch.from_numpy(np.ascontiguousarray(reference[a:b])))
            cur = frames.index_select(0, torch.from_numpy(np.ascontiguousarray(current[a:b])))
        pred = F.grid_sample(ref, torch.from_numpy(grid), mode="bilinear", padding_mode="border", align_corners=True)
        if covered is not None:
            pred.mul_(torch.from_numpy(_upsample(covered[a:b], c, h, w))[:, None])
        torch.sub(cur, pred, out=out[a:b])
    return out


def chain_sources(previous_src: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Accumulate source positions back to the I-frame.

    Args:
        previous_src: float32 [H, W, 2], for each pixel of frame t-1 its (x, y) source in the I-frame.
        field: float32 [H, W, 2], T^t (dst - src) of frame t.

    Returns:
        float32 [H, W, 2]: for each pixel of frame t its (x, y) source in the I-frame
        (nearest lookup in ``previous_src``, sub-pixel remainder carried over).
    """
    h, w = field.shape[:2]
    gx, gy = _grid(h, w)
    sx, sy = gx - field[..., 0], gy - field[..., 1]
    rx = np.clip(np.rint(sx), 0, w - 1).astype(np.int64)
    ry = np.clip(np.rint(sy), 0, h - 1).astype(np.int64)
    out = np.take(previous_src.reshape(h * w, 2), (ry * w + rx).ravel(), axis=0).reshape(h, w, 2)
    out[..., 0] += sx - rx
    out[..., 1] += sy - ry
    return out


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
            acc_hist = [np.stack(_grid(h, w), -1)]
            continue
        f, cov, ids = (_upsample(a[j : j + 1], c, h, w)[0] for a in (field, blocks >= 0, blocks))
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
        intra: prediction of intra (uncovered) pixels, see :func:`motion_compensate`.
        refs: candidate reference frames per block (1 = the previous frame, exact for
            MPEG-4 Part 2 and ``ref=1`` H.264; libx264's default is ``ref=3``), see
            :func:`best_reference`. References never cross an I-frame.
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
            out.mv, out.covered = _upsample(field[sub], c, h, w), _upsample(blocks[sub] >= 0, c, h, w)
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
