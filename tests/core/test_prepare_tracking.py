"""The face tracker (overlap only, never a jump; the main track is the longest) and short-gap filling."""

from __future__ import annotations

import numpy as np
import pytest

from ferbench.prepare.cleanup import clean_track, fill_short_gaps
from ferbench.prepare.tracker import FaceTracker, FrameFaces, follow


def faces(*boxes: tuple[float, float, float, float], prob: float = 0.99) -> FrameFaces:
    b = np.asarray(boxes, float).reshape(-1, 4)
    centres = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)
    return FrameFaces(b, np.repeat(centres[:, None], 5, axis=1), np.full(len(b), prob))


LEFT, RIGHT = (10, 10, 50, 50), (100, 10, 140, 50)


def test_the_track_never_jumps_to_a_box_that_does_not_overlap_it():
    # the face is on the left for 6 frames, leaves, and another face shows on the right
    clip = [faces(LEFT)] * 6 + [FrameFaces.none()] * 2 + [faces(RIGHT)] * 4
    boxes, points, probs = follow(clip)
    assert not np.isnan(probs[:6]).any() and np.isnan(probs[6:]).all()
    np.testing.assert_allclose(boxes[:6], np.tile(LEFT, (6, 1)))


def test_a_one_off_false_detection_loses_to_the_real_face():
    # frame 0: lettering fires once (p = 0.90) far from the face; the face is in frames 1-9
    clip = [faces(RIGHT, prob=0.90)] + [faces(LEFT)] * 9
    boxes, _, probs = follow(clip)
    assert np.isnan(probs[0]) and not np.isnan(probs[1:]).any()
    assert boxes[1:, 0].tolist() == [10.0] * 9


def test_the_tracker_streams_and_follows_a_moving_face_by_overlap():
    tracker = FaceTracker(min_iou=0.1)
    for t in range(10):  # 4 px per frame to the right, a distractor that blinks on the right
        shifted = (10 + 4 * t, 10, 50 + 4 * t, 50)
        tracker.update(faces(shifted, RIGHT) if t % 3 == 0 else faces(shifted))
        assert tracker.frames == t + 1
    main = tracker.main_track()
    assert main.frames == list(range(10)) and main.at(9)[0][0] == 46.0 and main.at(10) is None
    assert len(tracker.tracks) == 2  # the blinking box is one track of its own (same place every time)
    assert FaceTracker().main_track() is None
    with pytest.raises(ValueError):
        FaceTracker(min_iou=0.0)


def test_only_short_gaps_are_filled():
    v = np.array([np.nan, 1.0, np.nan, np.nan, 4.0] + [np.nan] * 4 + [9.0, np.nan])[:, None]
    filled, covered = fill_short_gaps(v, max_gap=2)
    assert covered.tolist() == [True] * 5 + [False] * 4 + [True, True]
    assert filled[:5, 0].tolist() == [1.0, 1.0, 2.0, 3.0, 4.0] and np.isnan(filled[5:9]).all()
    assert filled[9:, 0].tolist() == [9.0, 9.0]
    with pytest.raises(ValueError):
        fill_short_gaps(np.full((3, 1), np.nan), 2)


def test_clean_track_smooths_within_covered_runs_only():
    boxes = np.array([[0, 0, 10, 10]] * 4 + [[np.nan] * 4] * 5 + [[100, 0, 110, 10]] * 4, float)
    points = np.repeat(((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None], 5, axis=1)
    out, pts, covered = clean_track(boxes, points, window=5, max_gap=3)
    assert covered.tolist() == [True] * 4 + [False] * 5 + [True] * 4
    assert out[:4, 0].tolist() == [0.0] * 4 and out[9:, 0].tolist() == [100.0] * 4  # never averaged across the cut
    assert np.isnan(pts[4:9]).all()
