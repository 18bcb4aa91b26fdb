"""Clip sampling (ferbench.data.clip_sampling) and its use as the rgb input's sampling=clips."""

from __future__ import annotations

import pytest
import torch

from ferbench.builtin.input_rgb import RGBInput, RGBOptions
from ferbench.data.clip_sampling import ClipSamplingOptions, clip_indices, clip_of_frame, resample_positions
from ferbench.errors import FerbenchError, OptionError
from ferbench.options import build_options, stable_hash

O = ClipSamplingOptions()
# evaluation frames of a 15-frame sub-video: every 3rd from the first, as the authors' code
# (CEFLNet data/NewDataset.py:103, range(0, 15, 15 // 5)); until issue 19 ferbench took 1, 4, 7, 10, 13
EVEN = torch.tensor([0, 3, 6, 9, 12])


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_paper_numbers_evaluation_indices_of_a_105_frame_video():
    idx = clip_indices(105, O, train=False, generator=gen())
    assert idx.dtype == torch.int64 and idx.shape == (35,)
    expected = torch.cat([15 + 10 * j + EVEN for j in range(7)])  # start 15, sub-videos every 10 frames
    assert torch.equal(idx, expected)
    assert O.window == 6 * 10 + 15 == 75 and O.total_frames == 35


@pytest.mark.parametrize(("k", "want"), [(2, [0, 7]), (10, list(range(10))), (15, list(range(15))), (4, [0, 3, 6, 9])])
def test_evaluation_positions_follow_the_code_for_other_frame_counts(k, want):
    o = ClipSamplingOptions(clip_frames=k)
    idx = clip_indices(105, o, train=False, generator=gen()).reshape(7, k)
    assert idx[0].tolist() == [15 + p for p in want] and torch.equal(idx[3] - idx[0], torch.full((k,), 30))


def test_short_video_is_interpolated_and_long_video_clipped():
    assert torch.equal(resample_positions(32, 105)[[0, 16, 104]], torch.tensor([0, 5, 31]))  # round(16*31/104) = 5
    short = clip_indices(32, O, train=False, generator=gen())
    assert short[0] == 4 and short.max() <= 31  # evaluation frame 15 of the 105 -> round(15*31/104) = 4
    per_clip = short.reshape(7, 5)
    assert bool((per_clip[:, 1:] >= per_clip[:, :-1]).all())  # overlapping sub-videos: sorted inside each clip
    long = clip_indices(305, O, train=False, generator=gen())  # central 105 frames start at 100
    assert torch.equal(long, 100 + clip_indices(105, O, train=False, generator=gen()))
    start = ClipSamplingOptions(long_videos="start")
    assert torch.equal(clip_indices(305, start, train=False, generator=gen()), clip_indices(105, O, train=False, generator=gen()))
    assert torch.equal(clip_indices(1, O, train=False, generator=gen()), torch.zeros(35, dtype=torch.long))


def test_training_draws_random_start_and_random_frames_inside_each_sub_video():
    starts = set()
    for seed in range(40):
        idx = clip_indices(105, O, train=True, generator=gen(seed)).reshape(7, 5)
        assert torch.equal(idx, clip_indices(105, O, train=True, generator=gen(seed)).reshape(7, 5))  # deterministic
        assert all(bool((row[1:] > row[:-1]).all()) for row in idx)  # 5 distinct frames per clip, in order
        # one window start s0 in [0, 30) explains every clip: clip j lies in [s0 + 10j, s0 + 10j + 14]
        fits = [s0 for s0 in range(30) if all(s0 + 10 * j <= idx[j].min() and idx[j].max() <= s0 + 10 * j + 14 for j in range(7))]
        assert fits, f"seed {seed}: {idx}"
        starts.add(fits[0])
    assert len(starts) > 5  # the start varies with the generator


def test_evaluation_ignores_the_generator():
    assert torch.equal(clip_indices(60, O, train=False, generator=gen(1)), clip_indices(60, O, train=False, generator=gen(2)))


def test_options_are_checked_with_the_fix_in_the_message():
    with pytest.raises(OptionError, match="set window=55"):
        ClipSamplingOptions(clips=5)
    assert ClipSamplingOptions(clips=5, window=55).total_frames == 25
    with pytest.raises(OptionError, match="resample_to >= 104"):
        ClipSamplingOptions(resample_to=90)
    with pytest.raises(OptionError, match="overlap"):
        ClipSamplingOptions(overlap=15)
    two = ClipSamplingOptions(clip_frames=2)
    assert torch.equal(clip_indices(105, two, train=False, generator=gen())[:2], torch.tensor([15 + 0, 15 + 7]))


def test_clip_of_frame_picks_the_clip_closest_to_the_apex():
    idx = clip_indices(105, O, train=False, generator=gen())
    assert clip_of_frame(idx, 7, 49) == 3  # clip 3 holds frame 49, clip 2 ends at 48
    assert clip_of_frame(idx, 7, 0) == 0 and clip_of_frame(idx, 7, 104) == 6


def test_rgb_clip_sampling_option(registry, tmp_path):
    sample = registry.get("dataset", "toy").factory(registry.get("dataset", "toy").options(), None, tmp_path).manifest().samples[0]
    default = RGBInput(RGBOptions())
    assert default.cache_key() == stable_hash({"size": 96, "v": 1}) and default.signature.frames == 4
    rep = RGBInput(build_options(RGBOptions, {"sampling": "clips", "size": "32", "clip_frames": "2"}))
    assert rep.signature.frames == 14 and rep.cache_key() == RGBInput(RGBOptions(size=32)).cache_key()
    loaded = rep.load(sample)
    x = rep.sample(loaded, train=True, generator=gen(3))["x"]
    assert x.shape == (14, 3, 32, 32) and x.dtype == torch.float32
    e1 = rep.sample(loaded, train=False, generator=gen(1))["x"]
    assert torch.equal(e1, rep.sample(loaded, train=False, generator=gen(2))["x"])
    idx = clip_indices(loaded["frames"].shape[0], ClipSamplingOptions(clip_frames=2), train=False, generator=gen())
    ref = loaded["frames"][idx].float() / 255.0
    assert torch.allclose(e1 * torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) + torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), ref, atol=1e-5)


def test_rgb_inconsistent_clip_options_name_the_rgb_option():
    with pytest.raises(FerbenchError, match="set clip_window=55"):
        RGBInput(RGBOptions(sampling="clips", clips=5))
