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
from ferbench.prepare.cleanup import fill_gaps, smooth
from test_datasets_adapters import AFEW_FOLDERS, synth_faces, write_afew, write_images, write_video

from repo import ROOT


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


# ------------------------------------------------------------------ issue 14, items 1, 2, 13
def paste(canvas_hw: tuple[int, int], face: np.ndarray | None, x: int, y: int = 16, background: int = 128) -> np.ndarray:
    """A uint8 [H, W, 3] frame of one grey level with ``face`` [h, w, 3] pasted at (x, y) (None: no face)."""
    frame = np.full((*canvas_hw, 3), background, np.uint8)
    if face is not None:
        frame[y:y + face.shape[0], x:x + face.shape[1]] = face
    return frame


def leaving_clip(faces) -> np.ndarray:
    """26 frames of 96x160: subject A drifts right for 16 frames and leaves; 4 empty frames; subject B on the right for 6."""
    a, b = np.concatenate([faces["happiness"][0]] * 2), faces["surprise"][1]
    frames = [paste((96, 160), a[t], x=4 + t) for t in range(16)]
    frames += [paste((96, 160), None, 0)] * 4
    frames += [paste((96, 160), b[t], x=96) for t in range(6)]
    return np.stack(frames)


def pattern_clip(faces, n: int = 20) -> np.ndarray:
    """A face-free, high-contrast moving checkerboard of n frames in which a face shows in one frame only
    (standing for MTCNN firing once on lettering: no pattern we tried fools MTCNN at p >= 0.9)."""
    yy, xx = np.indices((96, 160))
    frames = [np.repeat((((xx + 3 * t) // 8 + yy // 8) % 2 * 255).astype(np.uint8)[..., None], 3, axis=2) for t in range(n)]
    frames[7] = paste((96, 160), faces["anger"][2][4], x=48)
    return np.stack(frames)


@pytest.fixture(scope="module")
def tracked_root(tmp_path_factory):
    """folder layout: a clip whose face leaves the frame, a pattern clip with one face frame, a steady face clip."""
    faces = synth_faces(tmp_path_factory)
    root = tmp_path_factory.mktemp("tracked") / "tree"
    write_video(root / "leaves" / "clip.mp4", leaving_clip(faces), codec="libx264")
    write_video(root / "pattern" / "clip.mp4", pattern_clip(faces), codec="libx264")
    write_video(root / "steady" / "clip.mp4", faces["neutral"][3], codec="libx264")
    return root


def test_too_few_face_frames_fail_and_a_face_that_leaves_is_cut_not_cropped_on_background(tracked_root, tmp_path, detector):
    from ferbench.prepare.pipeline import prepare_dataset

    lines: list[str] = []
    report = prepare_dataset(adapter("folder", tracked_root, tmp_path), progress=False, log=lines.append)
    reasons = dict(report.failed)
    assert list(reasons) == ["pattern/clip.mp4"] and report.prepared == 2
    assert reasons["pattern/clip.mp4"].startswith("too few face frames: the face is found in 1 of 20 frames (5%)")
    m = adapter("folder", tracked_root, tmp_path).manifest()
    leaves = m.by_id()["leaves/clip.mp4"]
    marks = np.load(leaves.meta["landmarks5"])
    kept = marks["source_frame"]
    # only subject A's frames are kept: B (who never overlaps A) is not jumped to, the empty frames are cut
    assert leaves.num_frames == len(kept) >= 13 and kept[0] == 0 and kept.max() < 16
    fraction = leaves.meta["face_fraction"]
    assert fraction == pytest.approx(marks["detected"].sum() / 26) and 0.5 <= fraction < 0.9
    # item 13: boxes are in source pixels (subject A's face sits at x 4..83 of the 160-wide frame), landmarks in crop pixels
    cx = (marks["boxes"][:, 0] + marks["boxes"][:, 2]) / 2
    assert ((cx > 20) & (cx < 70)).all() and marks["boxes"][:, 2].max() < 90
    assert ((marks["landmarks"] > 0) & (marks["landmarks"] < 112)).all()
    from ferbench.data.video import read_video

    crops = read_video(leaves.path)
    assert all(len(f) for f in detector.detect(crops))  # every kept frame is a face, none is background
    assert m.by_id()["steady/clip.mp4"].meta["face_fraction"] == 1.0
    # low-fraction items are listed at the end of the run and in prepared.json
    assert lines[-1] == f"low face fraction: leaves/clip.mp4: {fraction:.0%}" and "fewer than 90%" in lines[-2]
    summary = json.loads((report.dir / "prepared.json").read_text())
    assert [d["id"] for d in summary["low_face_fraction"]] == ["leaves/clip.mp4"]
    # a lower bar keeps the pattern clip: its track is one frame long
    loose = prepare_dataset(adapter("folder", tracked_root, tmp_path, min_face_fraction=0.01, max_gap=0),
                            progress=False, log=lambda _: None)
    assert not loose.failed and loose.face_fractions["pattern/clip.mp4"] == pytest.approx(0.05)


def test_docs_say_boxes_are_in_source_pixels():
    text = (ROOT / "docs" / "datasets.md").read_text()
    assert "`boxes` [N, 4] in crop" not in text and "| `boxes` | [N, 4] | source pixels (of the raw frame)" in text


def same_looking_ids_tree(root: Path, faces) -> dict[str, int]:
    """Four items whose ids the old names merged pairwise; each has its own frame count."""
    counts = {"x/y_z.avi": 8, "x_y/z.avi": 7, "x/a b.avi": 6, "x/a_b.avi": 5}
    for (rel, n), cls in zip(counts.items(), ("happiness", "sadness", "surprise", "anger")):
        write_video(root / rel, faces[cls][0][:n])
    return counts


def test_prepared_names_are_injective_and_markers_are_checked(tmp_path_factory, tmp_path, capsys):
    from ferbench.prepare import store
    from ferbench.prepare.pipeline import prepare_dataset

    faces = synth_faces(tmp_path_factory)
    root = tmp_path / "tree"
    counts = same_looking_ids_tree(root, faces)
    report = prepare_dataset(adapter("folder", root, tmp_path / "c"), progress=False, log=lambda _: None)
    assert report.prepared == 4 and len(list((report.dir / "items").glob("*.mp4"))) == 4
    m = adapter("folder", root, tmp_path / "c").manifest()
    assert {s.id: s.num_frames for s in m.samples} == counts  # every sample reads its own video
    assert len({s.path for s in m.samples}) == 4
    stem = store.item_stem("x/a b.avi")
    assert stem.startswith("x_a_b.avi-") and stem != store.item_stem("x/a_b.avi")

    # a changed source is not trusted: left out with the prepare command, then prepared again
    write_video(root / "x/a b.avi", faces["fear"][0][:4])
    m = adapter("folder", root, tmp_path / "c").manifest()
    assert "x/a b.avi" not in m.by_id() and m.info["stale"][0][0] == "x/a b.avi"
    err = capsys.readouterr().err
    assert "cannot be trusted" in err and "changed" in err and "ferbench prepare --dataset folder" in err
    again = prepare_dataset(adapter("folder", root, tmp_path / "c"), progress=False, log=lambda _: None)
    assert again.redone == 1 and again.prepared == 1 and again.skipped == 3
    assert adapter("folder", root, tmp_path / "c").manifest().by_id()["x/a b.avi"].num_frames == 4

    # markers of an older prepare (no id, no version) or of another sample are never trusted
    items = report.dir / "items"
    old = json.loads(store.marker_path(report.dir, "x/y_z.avi").read_text())
    store.marker_path(report.dir, "x/y_z.avi").write_text(json.dumps({k: v for k, v in old.items() if k not in ("id", "v")}))
    store.marker_path(report.dir, "x_y/z.avi").write_text(json.dumps(old))
    m = adapter("folder", root, tmp_path / "c").manifest()
    stale = dict(m.info["stale"])
    assert "older" in stale["x/y_z.avi"] and "belong to sample 'x/y_z.avi'" in stale["x_y/z.avi"]
    assert len(m.samples) == 2 and len(list(items.glob("*.json"))) == 4
    fixed = prepare_dataset(adapter("folder", root, tmp_path / "c"), progress=False, log=lambda _: None)
    assert fixed.redone == 2 and fixed.skipped == 2
    assert {s.id: s.num_frames for s in adapter("folder", root, tmp_path / "c").manifest().samples} == {**counts, "x/a b.avi": 4}


def test_prepared_folders_of_the_old_version_are_not_found(tmp_path, monkeypatch):
    from ferbench.prepare import store

    new = adapter("folder", tmp_path, tmp_path / "c").prepared_dir()
    monkeypatch.setattr(store, "PREPARE_VERSION", 1)
    assert adapter("folder", tmp_path, tmp_path / "c").prepared_dir() != new
