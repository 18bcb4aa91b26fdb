"""SynthFER videos decode to the declared frames with the declared GOP (h264 and mpeg4)."""

from __future__ import annotations

import av
import numpy as np
import pytest
from av.video.frame import PictureType

from ferbench.datasets.synthetic.generate import generate
from ferbench.datasets.synthetic.options import SynthTinyOptions


@pytest.mark.parametrize("codec,gop,frames", [("h264", 4, 8), ("mpeg4", 3, 10)])
def test_decoded_frames_and_gop(tmp_path, codec, gop, frames):
    opts = SynthTinyOptions(subjects=1, codec=codec, gop=gop, frames=frames, profile="mmi")
    manifest = generate(opts, "synthetic-tiny", tmp_path)
    for sample in manifest.samples[:3]:
        kinds = []
        with av.open(sample.path) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == ("h264" if codec == "h264" else "mpeg4")
            for frame in container.decode(stream):
                assert frame.width == frame.height == 64
                kinds.append((PictureType(int(frame.pict_type)).name, bool(frame.key_frame)))
        assert len(kinds) == sample.num_frames == frames
        for i, (pict, key) in enumerate(kinds):
            assert pict in ("I", "P")
            assert (pict == "I") == (i % gop == 0) == key, kinds


def test_expression_changes_face_between_first_and_apex():
    from ferbench.datasets.synthetic.clip import VideoPlan, render_clip

    opts = SynthTinyOptions(subjects=1, noise=0.0)
    change = {}
    for c, name in enumerate(opts.classes):
        clip = render_clip(opts, VideoPlan("x", 0, c, c, c, False, None))
        v = clip.frames.astype(np.float32)
        change[name] = np.abs(v[clip.track.apex] - v[0]).mean()
    neutral = change.pop("neutral")
    assert neutral < 0.2 * min(change.values()), (neutral, change)
