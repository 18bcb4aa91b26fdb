"""ferbench.data.compressed and .motion: motion-vector map layout, residual maths, GOP walking, codec checks, the vectorised paths."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from av.video.reformatter import VideoReformatter

from ferbench.data.compressed import CompressedDomainError, decode_rgb, extract
from ferbench.data.motion import (
    best_reference,
    motion_cells,
    motion_compensate,
    mv_map,
    paint_blocks,
    residual,
    warp_residuals,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


MV_DTYPE = np.dtype([("source", "<i4"), ("w", "u1"), ("h", "u1"), ("src_x", "<i2"), ("src_y", "<i2"),
                     ("dst_x", "<i2"), ("dst_y", "<i2"), ("flags", "<u8"), ("motion_x", "<i4"),
                     ("motion_y", "<i4"), ("motion_scale", "<u2")])


def _vec(source, w, h, dst_x, dst_y, mx, my, scale):
    return (source, w, h, dst_x + mx // scale, dst_y + my // scale, dst_x, dst_y, 0, mx, my, scale)


def test_mv_map_broadcasts_blocks_with_sign_scale_and_direction():
    vecs = np.array([
        _vec(-1, 16, 16, 24, 24, -12, 0, 4),   # block x,y in [16, 32): src 3 px left -> dx = +3
        _vec(-1, 8, 8, 4, 4, 0, 8, 2),         # block [0, 8): half-pel units, src 4 px down -> dy = -4
        _vec(-1, 16, 8, 40, 36, 2, 0, 4),      # 16x8 block x [32, 48), y [32, 40): dx = -0.5 (quarter-pel)
        _vec(1, 16, 16, 8, 40, 40, 40, 4),     # future reference (B-frame): ignored
        _vec(-1, 16, 16, 40, 8, -4, -4, 4),    # x [32, 48) but frame is 40 wide: clipped, y [0, 16)
    ], dtype=MV_DTYPE)
    field, covered, blocks = mv_map(vecs, 48, 40, return_blocks=True)
    assert field.shape == (48, 40, 2) and covered.shape == (48, 40)
    assert np.all(field[16:32, 16:32] == [3.0, 0.0])
    assert np.all(field[0:8, 0:8] == [0.0, -4.0])
    assert np.all(field[32:40, 32:40] == [-0.5, 0.0])
    assert np.all(field[0:16, 32:40] == [1.0, 1.0])
    assert not covered[32:48, 0:16].any()  # the future-referencing block
    assert covered.sum() == 16 * 16 + 8 * 8 + 8 * 8 + 16 * 8
    assert len(np.unique(blocks[covered])) == 4 and np.all(blocks[~covered] == -1)


def test_residual_is_exactly_zero_for_a_known_integer_shift():
    rng = np.random.default_rng(0)
    prev = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    cur = np.roll(prev, shift=(2, 3), axis=(0, 1))  # content moves 3 px right, 2 px down
    field = np.zeros((32, 32, 2), np.float32)
    field[..., 0], field[..., 1] = 3.0, 2.0
    covered = np.ones((32, 32), bool)
    delta = residual(cur, prev, field, covered)
    assert np.abs(delta[2:, 3:]).max() < 1e-3  # away from the wrapped border
    assert np.abs(cur.astype(np.float32) - prev).mean() > 50  # the plain frame difference is large
    # half-pixel motion: bilinear average of the two neighbours
    half = field.copy()
    half[..., 0], half[..., 1] = 0.5, 0.0
    pred = motion_compensate(prev, half, covered)
    assert np.allclose(pred[:, 1:], (prev[:, :-1].astype(np.float32) + prev[:, 1:]) / 2, atol=1e-3)
    # intra pixels: colocated (zero motion) or raw (prediction 0)
    none = np.zeros((32, 32), bool)
    assert np.array_equal(residual(cur, prev, field, none, "raw"), cur.astype(np.float32))
    assert np.allclose(residual(cur, prev, field, none, "colocated"), cur.astype(np.float32) - prev, atol=1e-3)


def test_best_reference_picks_the_matching_past_frame_per_block():
    rng = np.random.default_rng(1)
    older = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    newer = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    cur = older.copy()
    cur[:, 8:] = newer[:, 8:]
    vecs = np.array([_vec(-1, 8, 16, 4, 8, 0, 0, 4), _vec(-1, 8, 16, 12, 8, 0, 0, 4)], dtype=MV_DTYPE)
    field, covered, blocks = mv_map(vecs, 16, 16, return_blocks=True)
    pred, choice = best_reference(cur, [newer, older], field, covered, blocks)
    assert np.allclose(pred, cur.astype(np.float32), atol=1e-3)
    assert np.all(choice[:, :8] == 1) and np.all(choice[:, 8:] == 0)


def _write(path, frames, codec="libx264", **opts):
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream(codec, rate=10, options={k: str(v) for k, v in opts.items()})
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if "g" in opts:
            s.codec_context.gop_size = int(opts["g"])
        s.codec_context.max_b_frames = int(opts.get("bf", 0))
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _moving_square(n, step, size=64):
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    frames = np.full((n, size, size, 3), 100, np.uint8)
    for t in range(n):
        x = 16 + step * t
        frames[t, 24:40, x:x + 16] = tex
    return frames


def test_hand_built_video_recovers_the_known_motion_and_a_small_residual(tmp_path):
    frames = _moving_square(2, 4)
    path = _write(tmp_path / "sq.mp4", frames, bf=0, g=8, sc_threshold=0, crf=10)
    v = extract(path, accumulate=True, keep_frames=(-1,))
    assert v.frame_types == ["I", "P"] and list(v.p_index) == [1]
    assert v.mv.shape == (1, 64, 64, 2)
    assert np.all(v.mv[0, 28:36, 24:36] == [4.0, 0.0])  # the square's interior moved 4 px right
    inside = np.abs(v.residual[0, 24:40, 24:36]).mean()
    plain = np.abs(frames[1, 24:40, 24:36].astype(np.float32) - frames[0, 24:40, 24:36]).mean()
    assert inside < 3.0 and plain > 30.0
    assert np.allclose(v.residual_acc[0], v.residual[0], atol=1e-3)  # one P-frame after the I-frame
    assert v.frames.shape == (1, 64, 64, 3) and v.iframes.shape == (1, 64, 64, 3)


@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
def test_gop_walking(tmp_path, codec):
    frames = _moving_square(7, 2)
    path = _write(tmp_path / "g.mp4", frames, codec=codec, bf=0, g=3, sc_threshold=0, keyint_min=3)
    v = extract(path)
    assert v.frame_types == ["I", "P", "P", "I", "P", "P", "I"]
    assert list(v.gop_index) == [0, 0, 0, 1, 1, 1, 2]
    assert list(v.p_index) == [1, 2, 4, 5] and list(v.i_index) == [0, 3, 6]
    assert v.residual.shape == (4, 64, 64, 3) and v.iframes.shape == (3, 64, 64, 3)
    assert np.median(v.mv[:, 28:36, 24:40, 0]) > 0  # rightward motion has dx > 0 in both codecs


def test_b_frames_and_all_intra_videos_are_clear_errors(tmp_path):
    frames = _moving_square(10, 2)
    b = _write(tmp_path / "b.mp4", frames, bf=2, g=10, b_strategy=0)
    with pytest.raises(CompressedDomainError, match="B-frames.*bf=0"):
        extract(b)
    intra = _write(tmp_path / "i.mp4", frames[:3], bf=0, g=1)
    with pytest.raises(CompressedDomainError, match="no P-frames"):
        extract(intra)
    with pytest.raises(CompressedDomainError, match="not found"):
        extract(tmp_path / "missing.mp4")


def _paint_loop(frame, x0, y0, bw, bh, num_frames, height, width):
    """Reference painting: one slice assignment per block, later blocks over earlier ones."""
    ids = np.full((num_frames, height, width), -1, np.int64)
    local = {}
    for f, a, b, w, h in zip(frame, x0, y0, bw, bh):
        i = local.get(f, 0)
        local[f] = i + 1
        ids[f, max(b, 0) : max(b + h, 0), max(a, 0) : max(a + w, 0)] = i
    return ids


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_painting_equals_loop_painting(seed):
    """Random overlapping blocks, some sticking out of every border or lying wholly outside."""
    rng = np.random.default_rng(seed)
    frames, height, width = 3, 7 + seed, 9
    n = 40
    frame = np.sort(rng.integers(0, frames, n))
    x0, y0 = rng.integers(-5, width + 2, n), rng.integers(-5, height + 2, n)
    bw, bh = rng.integers(1, 6, n), rng.integers(1, 6, n)
    want = _paint_loop(frame, x0, y0, bw, bh, frames, height, width)
    assert np.array_equal(paint_blocks(frame, x0, y0, bw, bh, frames, height, width), want)
    assert (want >= 0).any() and (want < 0).any()


def test_motion_cells_of_several_frames_equal_per_frame_maps():
    rng = np.random.default_rng(3)
    lists = []
    for f in range(3):
        vecs = [_vec(-1, 16, 8, int(x) * 16 + 8, int(y) * 8 + 4, int(rng.integers(-9, 9)), int(rng.integers(-9, 9)), 4)
                for x, y in zip(rng.integers(0, 3, 5), rng.integers(0, 6, 5))]
        lists.append(np.array(vecs + [_vec(1, 8, 8, 4, 4, 4, 4, 4)], dtype=MV_DTYPE))  # + one future reference
    lists.insert(1, None)  # a P-frame without exported vectors
    field, blocks, c = motion_cells(lists, 44, 40)  # 44 rows: not a multiple of the 8-px blocks
    assert c == 4 and field.shape == (4, 11, 10, 2)
    for f, vecs in enumerate(lists):
        want_field, want_cov, want_ids = mv_map(vecs, 44, 40, return_blocks=True)
        up = np.repeat(np.repeat(field[f], 4, 0), 4, 1)[:44, :40]
        assert np.array_equal(up, want_field)
        assert np.array_equal(np.repeat(np.repeat(blocks[f], 4, 0), 4, 1)[:44, :40], want_ids)
    assert not (blocks[1] >= 0).any()


@pytest.mark.parametrize("intra", ["colocated", "raw"])
def test_batched_warp_equals_per_frame_residual(monkeypatch, intra):
    """warp_residuals (chunks, slices and gathers) == residual() frame by frame, sizes not multiples of 4."""
    import ferbench.data.motion as C

    rng = np.random.default_rng(5)
    h, w, c = 30, 22, 4
    frames = rng.integers(0, 256, (6, h, w, 3)).astype(np.uint8)
    hc, wc = -(-h // c), -(-w // c)
    field = (rng.integers(-12, 13, (5, hc, wc, 2)) / 4).astype(np.float32)  # quarter-pel, pointing outside too
    covered = rng.random((5, hc, wc)) < 0.8
    field[~covered] = 0.0
    chw = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))
    for current, chunk in [(np.arange(1, 6), 1 << 21), (np.arange(1, 6), 2 * h * w), (np.array([5, 2, 3, 1, 4]), 1 << 21)]:
        monkeypatch.setattr(C, "CHUNK_PIXELS", chunk)
        got = warp_residuals(chw, current, current - 1, field, c, covered if intra == "raw" else None)
        for j, t in enumerate(current):
            up = lambda a: np.repeat(np.repeat(a, c, 0), c, 1)[:h, :w]  # noqa: E731
            want = residual(frames[t], frames[t - 1], up(field[j]), up(covered[j]), intra)
            assert np.abs(got[j].permute(1, 2, 0).numpy() - want).max() < 1e-3


def test_p_frames_select_rows_and_convert_only_what_they_need(tmp_path, monkeypatch):
    frames = _moving_square(9, 2)
    path = _write(tmp_path / "p.mp4", frames, bf=0, g=4, sc_threshold=0, keyint_min=4)
    full = extract(path, keep_frames=(-1,))
    assert list(full.p_rows) == list(range(len(full.p_index)))
    converted = []
    real = VideoReformatter.reformat
    monkeypatch.setattr(VideoReformatter, "reformat", lambda self, frame, **kw: converted.append(frame.pts) or real(self, frame, **kw))
    part = extract(path, want_iframes=False, p_frames=lambda n: [n - 1, 0, 0])
    assert list(part.p_rows) == [len(full.p_index) - 1, 0, 0]
    for got, row in zip(part.residual, part.p_rows):
        assert np.array_equal(got, full.residual[row])
    assert np.array_equal(part.mv, full.mv[part.p_rows])
    wanted = {int(full.p_index[r]) for r in part.p_rows} | {int(full.p_index[r]) - 1 for r in part.p_rows}
    assert len(converted) == len(wanted) < full.num_frames  # only the picked P-frames and their references
    with pytest.raises(ValueError, match="out of range"):
        extract(path, p_frames=[len(full.p_index)])


def test_shared_swscale_context_gives_the_same_pixels(tmp_path):
    path = _write(tmp_path / "s.mp4", _moving_square(5, 3), bf=0, g=3)
    plain = decode_rgb(path, shared_context=False)
    assert np.array_equal(decode_rgb(path), plain)
    v = extract(path, keep_frames=(2,))
    assert np.array_equal(v.iframes, plain[v.i_index]) and np.array_equal(v.frames[0], plain[2])
