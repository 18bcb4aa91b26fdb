"""ferbench.data.compressed: motion-vector map layout, residual maths, GOP walking, codec checks."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from ferbench.data.compressed import (
    CompressedDomainError,
    best_reference,
    extract,
    motion_compensate,
    mv_map,
    residual,
)

@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small tensors: one intra-op thread is faster, and far faster on a loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
