"""The face framing a bundle records: from prepare options, from SynthFER (margin measured with MTCNN)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ferbench.bundle.preprocessing import SYNTHFER_MARGIN, Preprocessing, preprocessing_of
from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.prepare.options import PrepareOptions
from bundle_fixtures import trained_run


def manifest(frames=(16, 16, 20), apex=(15, 15, 19), info=None) -> Manifest:
    samples = [Sample(id=f"s{i}", path="x", label=0, subject="a", num_frames=n, apex=a)
               for i, (n, a) in enumerate(zip(frames, apex))]
    return Manifest("d", ["anger"], samples, ProtocolSpec("kfold"), info=info or {})


def test_prepared_datasets_give_their_prepare_options():
    pre = preprocessing_of(manifest(info={"prepared": "/cache/prepared/afew-x"}), PrepareOptions(face_size=96, margin=1.4, gop=8))
    assert (pre.source, pre.face_size, pre.margin, pre.gop, pre.crf) == ("prepared", 96, 1.4, 8, 18)
    assert pre.window_frames == 16 and pre.apex_position == 1.0 and pre.apex_of(8) == 7
    raw = preprocessing_of(manifest(apex=(None, None, None)), PrepareOptions())
    assert raw.source == "raw" and raw.apex_position is None and raw.apex_of(8) is None

    @dataclasses.dataclass(frozen=True)
    class Other:
        x: int = 1

    assert preprocessing_of(manifest(), Other()) == Preprocessing(source="raw", window_frames=16, apex_position=1.0)


def test_synthfer_records_its_frame_and_codec_and_the_measured_margin(tmp_path_factory):
    from ferbench.data.video import read_video
    from ferbench.prepare.faces import FaceDetector

    runner = trained_run(tmp_path_factory, "tiny").runner  # its synthetic-tiny data
    m, options = runner.manifest, runner.resolved.options["dataset"]
    pre = preprocessing_of(m, options)
    assert (pre.source, pre.face_size, pre.gop, pre.crf, pre.fps) == ("generated", 64, 4, 18, 25)
    assert pre.margin == SYNTHFER_MARGIN and pre.window_frames == 8
    detector = FaceDetector()
    ratios = []
    for s in m.samples[:6]:
        frames = read_video(s.path)[::3]
        boxes, _, probs = detector.track(frames)
        ok = ~np.isnan(probs)
        ratios += list(frames.shape[1] / np.maximum(boxes[ok, 2] - boxes[ok, 0], boxes[ok, 3] - boxes[ok, 1]))
    assert np.median(ratios) == pytest.approx(SYNTHFER_MARGIN, abs=0.15)
