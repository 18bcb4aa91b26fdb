"""Motion-vector maps and motion-compensated residuals: the array maths of the compressed domain.

Pure numpy/torch functions on exported motion vectors and decoded frames;
:mod:`ferbench.data.compressed` decodes videos and calls them. Conventions
(IFERCV / CoViAR):

* Motion field T = dst - src in pixels, [H, W, 2] (dx, dy): the displacement of
  the content from the reference frame to frame t (content moving 3 px right
  has dx = +3). FFmpeg's ``AVMotionVector`` stores ``motion_x / motion_scale =
  src - dst`` for a block of ``w x h`` pixels centred on ``(dst_x, dst_y)``.
* MC(reference, T)_i = reference_{i - T_i}, bilinear at fractional positions,
  borders clamped; residual = current - MC(reference, T), float32 RGB levels.
* Pixels no vector covers are intra-coded: ``intra="colocated"`` predicts them
  from the co-located reference pixel, ``intra="raw"`` predicts zero.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

MV_FIELDS = ("source", "w", "h", "src_x", "src_y", "dst_x", "dst_y", "motion_x", "motion_y", "motion_scale")


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
    field, covered = upsample_cells(field, c, height, width)[0], upsample_cells(ids >= 0, c, height, width)[0]
    return (field, covered, upsample_cells(ids, c, height, width)[0]) if return_blocks else (field, covered)


def upsample_cells(a: np.ndarray, c: int, height: int, width: int) -> np.ndarray:
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
def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
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
    gx, gy = pixel_grid(*reference.shape[:2])
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
    gx, gy = pixel_grid(hc * c, width)
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
            pred.mul_(torch.from_numpy(upsample_cells(covered[a:b], c, h, w))[:, None])
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
    gx, gy = pixel_grid(h, w)
    sx, sy = gx - field[..., 0], gy - field[..., 1]
    rx = np.clip(np.rint(sx), 0, w - 1).astype(np.int64)
    ry = np.clip(np.rint(sy), 0, h - 1).astype(np.int64)
    out = np.take(previous_src.reshape(h * w, 2), (ry * w + rx).ravel(), axis=0).reshape(h, w, 2)
    out[..., 0] += sx - rx
    out[..., 1] += sy - ry
    return out
