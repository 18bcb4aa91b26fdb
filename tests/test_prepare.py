"""``ferbench prepare``: MTCNN on a real face, track clean-up, GOP, the resumable pipeline, and run on prepared AFEW."""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from ferbench.cli import main
from ferbench.errors import DatasetLayoutError
from ferbench.options import build_options
from ferbench.plugins import Registry
from ferbench.prepare.align import align_frame
from ferbench.prepare.encode import write_h264
from ferbench.prepare.track import fill_gaps, smooth
from test_datasets_adapters import AFEW_FOLDERS, synth_faces, write_afew, write_images, write_video


@pytest.fixture(scope="module")
def detector():
    from ferbench.prepare.faces import FaceDetector

    return FaceDetector(min_face=20, detect_side=360)


@pytest.mark.parametrize("tilt", [0.0, 12.0])
def test_mtcnn_finds_and_aligns_the_astronaut(detector, tilt):
    from skimage.data import astronaut

    image = np.asarray(Image.fromarray(astronaut()).rotate(tilt, resample=Image.BILINEAR))
    boxes, points, probs = detector.track(image[None])
    assert probs[0] > 0.95
    x1, y1, x2, y2 = boxes[0]
    assert 150 < (x1 + x2) / 2 < 300 and 60 < (y1 + y2) / 2 < 200  # Eileen Collins' face, upper middle
    (lx, ly), (rx, ry) = points[0, 0], points[0, 1]
    if tilt:
        assert abs(math.degrees(math.atan2(ry - ly, rx - lx))) > 5  # the eyes are tilted in the source
    crop, local = align_frame(image, boxes[0], points[0], 112, 1.3)
    assert crop.shape == (112, 112, 3)
    assert abs(local[0, 1] - local[1, 1]) < 0.5  # eyes level after alignment
    assert local[0, 0] < local[2, 0] < local[1, 0] and local[2, 1] < local[3, 1]  # eye, nose, mouth order
    assert ((local > 0) & (local < 112)).all()
    again, _, p2 = detector.track(crop[None])  # the aligned crop still is a face
    assert p2[0] > 0.9


def test_fill_gaps_and_smooth():
    v = np.array([[np.nan], [0.0], [np.nan], [4.0], [np.nan]])
    assert fill_gaps(v)[:, 0].tolist() == [0.0, 0.0, 2.0, 4.0, 4.0]
    with pytest.raises(ValueError):
        fill_gaps(np.full((3, 2), np.nan))
    jitter = np.array([0.0, 10.0, 0.0, 10.0, 0.0, 10.0])[:, None]
    assert np.ptp(smooth(jitter, 5)[1:-1]) < np.ptp(jitter)
    assert smooth(jitter, 1).tolist() == jitter.tolist()


def test_face_tracks_are_ip_with_a_fixed_gop(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (13, 32, 32, 3), dtype=np.uint8)
    write_h264(tmp_path / "t.mp4", frames, fps=25, gop=4, crf=18)
    with av.open(str(tmp_path / "t.mp4")) as c:
        kinds = [int(f.pict_type) for f in c.decode(video=0)]  # AVPictureType: 1 = I, 2 = P, 3 = B
    assert kinds == [1 if i % 4 == 0 else 2 for i in range(13)]
    assert not list(tmp_path.glob(".*tmp*"))


@pytest.fixture(scope="module")
def afew_root(tmp_path_factory):
    """AFEW layout, 1 clip per class and split, plus a corrupt file and a clip without a face."""
    faces = synth_faces(tmp_path_factory)
    root = write_afew(tmp_path_factory.mktemp("afew") / "AFEW", faces, per_class=1)
    (root / "Train_AFEW" / "Angry" / "corrupt.avi").write_bytes(b"RIFF\x00\x00 truncated")
    write_video(root / "Train_AFEW" / "Sad" / "noface.avi", np.full((6, 64, 64, 3), 128, np.uint8))
    return root


def adapter(name, root, cache, **opts):
    spec = Registry().get("dataset", name)
    return spec.factory(build_options(spec.options, opts), root, cache)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("prepared-cache")


def test_prepare_reports_failures_resumes_and_feeds_the_manifest(afew_root, shared_cache, capsys):
    from ferbench.prepare.pipeline import prepare_dataset

    cache = shared_cache
    with pytest.raises(DatasetLayoutError, match="not prepared.*ferbench prepare --dataset afew"):
        adapter("afew", afew_root, cache, prepared="yes").manifest()
    raw = adapter("afew", afew_root, cache).manifest()
    assert "not prepared" in capsys.readouterr().err and len(raw.samples) == 16
    report = prepare_dataset(adapter("afew", afew_root, cache), workers=1, progress=False, log=lambda _: None)
    assert report.prepared == 14 and report.skipped == 0 and report.frames == 14 * 8
    reasons = dict(report.failed)
    assert reasons["train/anger/corrupt"].startswith("unreadable") and reasons["train/sadness/noface"].startswith("no face")
    assert report.fps_per_core > 0 and "frames/s per core" in report.summary()
    failures = json.loads((report.dir / "failures.json").read_text())
    assert {f["id"] for f in failures} == set(reasons)
    again = prepare_dataset(adapter("afew", afew_root, cache), workers=1, progress=False, log=lambda _: None)
    assert again.skipped == 14 and again.prepared == 0 and len(again.failed) == 2  # failed items are retried

    m = adapter("afew", afew_root, cache).manifest()
    assert len(m.samples) == 14 and sorted(m.info["dropped"]) == sorted(reasons)
    assert "failed to prepare" in capsys.readouterr().err
    s = m.samples[0]
    assert Path(s.path).parent == report.dir / "items" and s.path.endswith(".mp4") and s.num_frames == 8
    assert s.meta["source"].endswith(".avi") and Path(s.meta["source"]).parent.name == AFEW_FOLDERS[s.label]
    marks = np.load(s.meta["landmarks5"])
    assert marks["landmarks"].shape == (8, 5, 2) and marks["boxes"].shape == (8, 4)
    with av.open(s.path) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (112, 112)
    other = adapter("afew", afew_root, cache, face_size=64).prepared_dir()
    assert other != report.dir  # prepare options change the folder
    assert len(adapter("afew", afew_root, cache, prepared="no").manifest().samples) == 16


def test_prepare_image_dataset_writes_png_crops(tmp_path_factory, tmp_path):
    from ferbench.prepare.pipeline import prepare_dataset

    faces = synth_faces(tmp_path_factory)
    root = tmp_path / "images"
    for cls in ("happiness", "sadness"):
        write_images(root / cls, faces[cls][0][-1:], "a.png")
    Image.new("RGB", (64, 64), (90, 90, 90)).save(root / "sadness" / "blank.png")
    report = prepare_dataset(adapter("folder", root, tmp_path / "c", no_face="full"), progress=False, log=lambda _: None)
    assert report.prepared == 3 and not report.failed  # no_face=full keeps the blank image (whole frame)
    m = adapter("folder", root, tmp_path / "c", no_face="full").manifest()
    assert m.modality == "image" and all(s.path.endswith(".png") for s in m.samples)
    assert Image.open(m.samples[0].path).size == (112, 112)


def test_cli_prepare_then_run_afew_end_to_end(afew_root, shared_cache, tmp_path, capsys):
    cache, out = str(shared_cache), str(tmp_path / "out")  # prepared by the test above: the CLI resumes
    assert main(["prepare", "--dataset", "afew", "--root", str(afew_root), "--cache-dir", cache, "--workers", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "frames/s per core" in text and "2 items failed" in text
    code = main(["run", "--dataset", "afew", "--root", str(afew_root), "--input", "rgb", "--input-opt", "frames=4",
                 "--input-opt", "size=32", "--backbone", "small-cnn", "--aggregator", "mean", "--epochs", "1",
                 "--batch-size", "4", "--cache-dir", cache, "--output-dir", out, "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "official train->val" in text and "7 test samples" in text
    from ferbench.results import ResultsStore

    df = ResultsStore(Path(out) / "results.sqlite").dataframe(dataset="afew")
    assert len(df) == 1
    assert main(["prepare", "--dataset", "synthetic-tiny", "--cache-dir", cache]) == 2
    assert "nothing to prepare" in capsys.readouterr().err
    assert main(["prepare", "--dataset", "afew", "--root", str(tmp_path / "missing"), "--cache-dir", cache]) == 2
    assert str(tmp_path / "missing") in capsys.readouterr().err
