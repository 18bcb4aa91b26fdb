"""``ferbench predict`` end to end with MTCNN: SynthFER videos, a real face photo, background only, a bad file."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

import ferbench
from ferbench.bundle.export import export_bundle
from ferbench.cli import main
from ferbench.data.video import read_video
from bundle_fixtures import trained_run
from test_datasets_adapters import write_video


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory):
    run = trained_run(tmp_path_factory, "tiny")
    out = tmp_path_factory.mktemp("predict-bundle") / "tiny.ferbench"
    export_bundle(run.runner.config_hash, out, output_dir=run.output_dir, cache_dir=run.cache_dir, log=lambda _: None)
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Three SynthFER clips, one 24-frame video of three clips back to back, and a broken file."""
    run = trained_run(tmp_path_factory, "tiny")
    folder = tmp_path_factory.mktemp("media")
    samples = run.runner.manifest.samples[:3]
    for i, s in enumerate(samples):
        shutil.copy(s.path, folder / f"clip{i}.mp4")
    write_video(folder / "long.avi", np.concatenate([read_video(s.path) for s in samples]))
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    return folder


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_predict_folder_writes_csv_and_timelines_and_survives_a_bad_file(bundle_path, media, tmp_path, capsys):
    out = tmp_path / "preds.csv"
    code = main(["predict", str(bundle_path), str(media), "--out", str(out), "--timeline", "--no-progress"])
    assert code == 0
    rows = {r["file"].rsplit("/", 1)[-1]: r for r in read_rows(out)}
    assert set(rows) == {"clip0.mp4", "clip1.mp4", "clip2.mp4", "long.avi", "broken.mp4"}
    assert rows["broken.mp4"]["status"] == "unreadable" and "broken.mp4" in rows["broken.mp4"]["error"]
    assert rows["broken.mp4"]["prediction"] == "" and rows["broken.mp4"]["p_anger"] == ""
    classes = ferbench.load(bundle_path).classes
    for name in ("clip0.mp4", "clip1.mp4", "clip2.mp4", "long.avi"):
        r = rows[name]
        assert r["status"] == "ok" and r["prediction"] in classes and r["error"] == ""
        probs = [float(r[f"p_{c}"]) for c in classes]
        assert abs(sum(probs) - 1) < 1e-3 and r["prediction"] == classes[int(np.argmax(probs))]
        assert int(r["face_frames"]) >= 0.75 * int(r["frames"])  # MTCNN finds the SynthFER faces
    assert rows["long.avi"]["frames"] == "24"
    timeline = tmp_path / "preds-timeline"
    assert sorted(p.name for p in timeline.iterdir()) == sorted(
        [f"{n}.{ext}" for n in ("clip0", "clip1", "clip2", "long") for ext in ("csv", "png")])
    windows = read_rows(timeline / "long.csv")
    assert [(w["start_frame"], w["end_frame"]) for w in windows] == [("0", "8"), ("8", "16"), ("16", "24")]
    assert float(windows[-1]["end_s"]) == pytest.approx(24 / 25)
    assert Image.open(timeline / "long.png").size[0] > 500
    overlapping = tmp_path / "overlap.csv"
    assert main(["predict", str(bundle_path), str(media / "long.avi"), "--out", str(overlapping), "--stride", "4",
                 "--timeline", "--no-progress"]) == 0
    windows = read_rows(tmp_path / "overlap-timeline" / "long.csv")
    assert [w["start_frame"] for w in windows] == ["0", "4", "8", "12", "16"]
    assert "5 files (4 ok, 0 no face, 1 unreadable)" in capsys.readouterr().out


def test_a_real_face_photo_is_ok_and_background_only_is_no_face(bundle_path, tmp_path):
    from skimage.data import astronaut

    Image.fromarray(astronaut()).save(tmp_path / "astronaut.png")
    gradient = np.linspace(40, 200, 160, dtype=np.uint8)[None, :, None].repeat(120, 0).repeat(3, 2)
    noise = np.random.default_rng(0).integers(0, 12, (12, 120, 160, 3), dtype=np.uint8)
    write_video(tmp_path / "background.avi", (gradient[None] + noise).astype(np.uint8))
    bundle = ferbench.load(bundle_path)
    photo, background = bundle.predict([tmp_path / "astronaut.png", tmp_path / "background.avi"])
    assert photo.status == "ok" and photo.face_frames == 1 and photo.frames == 1 and photo.label in bundle.classes
    assert sum(photo.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert background.status == "no face" and background.label == "" and not background.probabilities
    assert background.face_frames == 0 and background.frames == 12 and "no window" in background.error


def test_predict_without_any_media_is_one_line(bundle_path, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(bundle_path), str(tmp_path / "empty"), "--out", str(tmp_path / "p.csv")]) == 2
    assert "no video or image found" in capsys.readouterr().err
