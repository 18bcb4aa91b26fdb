"""Real-dataset adapters on tiny fixtures in each official layout, built from SynthFER faces.

The builders here (``write_afew`` ...) are also used by tests/core/test_prepare.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from ferbench.data.manifest import Manifest
from ferbench.data.protocols import make_folds
from ferbench.data.video import read_frames, read_video
from ferbench.errors import DatasetLayoutError, OptionError
from ferbench.options import build_options
from ferbench.testing import check_component

SYNTH_CLASSES = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]


def synth_faces(tmp_path_factory) -> dict[str, list[np.ndarray]]:
    """SynthFER ``synthetic-tiny`` clips decoded: class name -> list of uint8 [8, 64, 64, 3] (6 subjects)."""
    from ferbench.plugins import Registry

    cache = tmp_path_factory.getbasetemp() / "synth-cache"
    spec = Registry().get("dataset", "synthetic-tiny")
    m = spec.factory(spec.options(), None, cache).manifest()
    out: dict[str, list[np.ndarray]] = {c: [] for c in m.classes}
    for s in m.samples:
        out[m.classes[s.label]].append(read_video(s.path))
    return out


def face(faces, cls: str, i: int) -> np.ndarray:
    clips = faces[cls]
    return clips[i % len(clips)]


def write_video(path: Path, frames: np.ndarray, codec: str = "mpeg4") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            for p in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)


def write_images(folder: Path, frames: np.ndarray, pattern: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(frames):
        Image.fromarray(f).save(folder / pattern.format(t=t, t1=t + 1))


AFEW_FOLDERS = ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
AFEW_CANON = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]


def write_afew(root: Path, faces, per_class: int = 2) -> Path:
    """Train_AFEW/ and Val_AFEW/ with ``per_class`` .avi clips per emotion folder."""
    for split in ("Train_AFEW", "Val_AFEW"):
        for folder, cls in zip(AFEW_FOLDERS, AFEW_CANON):
            for i in range(per_class):
                offset = 0 if split == "Train_AFEW" else 3
                write_video(root / split / folder / f"{i + offset:09d}.avi", face(faces, cls, i + offset))
    return root


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return synth_faces(tmp_path_factory)


def spec_of(name):
    from ferbench.plugins import Registry

    return Registry().get("dataset", name)


def manifest_of(component: str, root: Path, cache: Path, **opts) -> Manifest:
    spec = spec_of(component)
    options = build_options(spec.options, {"prepared": "no", **opts})
    return spec.factory(options, root, cache).manifest()


def assert_subject_independent(m: Manifest, seed: int = 0) -> list:
    folds = make_folds(m, seed=seed)
    by_id = m.by_id()
    owner: dict[str, int] = {}
    for f in folds:
        test_subjects = {by_id[i].subject for i in f.test}
        train_subjects = {by_id[i].subject for i in f.train}
        assert not test_subjects & train_subjects
        for s in test_subjects:
            assert owner.setdefault(s, f.index) == f.index, f"subject {s} in two folds"
    assert sorted(i for f in folds for i in f.test) == sorted(s.id for s in m.samples)
    return folds


# ------------------------------------------------------------------ AFEW
def test_afew_layout(tmp_path, faces):
    root = write_afew(tmp_path / "afew", faces)
    m = manifest_of("afew", root, tmp_path / "cache")
    assert m.classes == AFEW_CANON and m.modality == "video"
    assert m.protocol.kind == "official" and m.protocol.eval_split == "val"
    assert len(m.samples) == 28
    assert {s.split for s in m.samples} == {"train", "val"}
    for s in m.samples:
        assert Path(s.path).suffix == ".avi" and Path(s.path).parent.name == AFEW_FOLDERS[s.label]
    (fold,) = make_folds(m)
    assert len(fold.train) == 14 and len(fold.test) == 14
    assert check_component(spec_of("afew"), root=root, cache_dir=tmp_path / "cache", prepared="no")


def test_afew_errors_name_the_expected_path(tmp_path, faces):
    spec = spec_of("afew")
    with pytest.raises(DatasetLayoutError, match="needs --root"):
        spec.factory(spec.options(), None, tmp_path).manifest()
    with pytest.raises(DatasetLayoutError, match=str(tmp_path / "nope")):
        spec.factory(spec.options(), tmp_path / "nope", tmp_path).manifest()
    root = tmp_path / "afew"
    write_video(root / "Train_AFEW" / "Angry" / "1.avi", face(faces, "anger", 0))
    with pytest.raises(DatasetLayoutError, match=r"class folder for disgust.*Train_AFEW/Disgust"):
        manifest_of("afew", root, tmp_path)
    for folder in AFEW_FOLDERS[1:]:
        (root / "Train_AFEW" / folder).mkdir()
    with pytest.raises(DatasetLayoutError, match=r"Val_AFEW"):
        manifest_of("afew", root, tmp_path)


# ------------------------------------------------------------------ CK+
CK_CODES = {"anger": 1, "contempt": 2, "disgust": 3, "fear": 4, "happiness": 5, "sadness": 6, "surprise": 7}


def write_ckplus(root: Path, faces, subjects: int = 12) -> dict[str, str]:
    """cohn-kanade-images/Sxxx/00y/*.png + Emotion/Sxxx/00y/*_emotion.txt; one unlabelled session per subject."""
    expected = {}
    classes = list(CK_CODES)
    for s in range(subjects):
        subj = f"S{s + 5:03d}"
        for k in range(3):
            cls = "surprise" if k == 0 else classes[s % len(classes)]  # >= 10 of one class for 10 folds
            frames = face(faces, cls if cls != "contempt" else "neutral", s)
            sess = f"{k + 1:03d}"
            write_images(root / "cohn-kanade-images" / subj / sess, frames, f"{subj}_{sess}_{{t1:08d}}.png")
            if k < 2:  # the third session is unlabelled
                d = root / "Emotion" / subj / sess
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{subj}_{sess}_{len(frames):08d}_emotion.txt").write_text(f"   {CK_CODES[cls]:.7e}\n")
                expected[f"{subj}_{sess}"] = cls
    return expected


def test_ckplus_layout_and_protocol(tmp_path, faces):
    root = tmp_path / "ck"
    expected = write_ckplus(root, faces)
    m = manifest_of("ckplus", root, tmp_path)
    assert m.classes == list(CK_CODES) and m.protocol.kind == "kfold" and m.protocol.folds == 10
    assert {s.id: m.classes[s.label] for s in m.samples} == expected
    assert all(s.apex == s.num_frames - 1 == 7 for s in m.samples)
    assert read_frames(m.samples[0].path).shape == (8, 64, 64, 3)
    assert all(s.subject == s.id.split("_")[0] for s in m.samples)
    assert len(assert_subject_independent(m)) == 10
    six = manifest_of("ckplus", root, tmp_path, contempt="false")
    assert "contempt" not in six.classes and len(six.samples) == sum(c != "contempt" for c in expected.values())
    img = manifest_of("ckplus", root, tmp_path, mode="image")
    assert img.modality == "image" and len(img.samples) == 3 * len(expected)
    assert {Path(s.path).stem[-8:] for s in img.samples} == {"00000006", "00000007", "00000008"}
    assert_subject_independent(img)
    assert check_component(spec_of("ckplus"), root=root, cache_dir=tmp_path, prepared="no")


def test_ckplus_bad_label_file(tmp_path, faces):
    root = tmp_path / "ck"
    write_ckplus(root, faces, subjects=1)
    next((root / "Emotion").rglob("*_emotion.txt")).write_text("garbage")
    with pytest.raises(DatasetLayoutError, match="cannot read an emotion code"):
        manifest_of("ckplus", root, tmp_path)
    with pytest.raises(DatasetLayoutError, match="cohn-kanade-images"):
        manifest_of("ckplus", tmp_path / "ck" / "Emotion", tmp_path)


# ------------------------------------------------------------------ MMI
MMI_CODES = {"anger": 1, "disgust": 2, "fear": 3, "happiness": 4, "sadness": 5, "surprise": 6}


def write_mmi(root: Path, faces, subjects: int = 10) -> dict[str, tuple[str, str]]:
    expected, n = {}, 0
    for s in range(subjects):
        for k, cls in enumerate(["surprise", list(MMI_CODES)[s % 5]]):
            n += 1
            d = root / "Sessions" / str(n)
            write_video(d / f"S{s + 1:03d}-{k + 1:03d}.avi", face(faces, cls, s))
            (d / "session.xml").write_text(
                f'<?xml version="1.0"?><session sessionId="{n}"><subject id="{s + 1}"/>'
                f'<track id="0"><Metatag Name="Emotion" Value="{MMI_CODES[cls]}"/></track></session>')
            expected[f"session{n}"] = (cls, f"S{s + 1:03d}")
    d = root / "Sessions" / str(n + 1)  # an AU-only session: no emotion tag, skipped
    write_video(d / "S001-099.avi", face(faces, "neutral", 0))
    (d / "session.xml").write_text('<session><subject id="1"/></session>')
    return expected


def test_mmi_layout(tmp_path, faces):
    root = tmp_path / "mmi"
    expected = write_mmi(root, faces)
    m = manifest_of("mmi", root, tmp_path)
    assert {s.id: (m.classes[s.label], s.subject) for s in m.samples} == expected
    assert m.info["apex_convention"] == "middle" and m.protocol.folds == 10
    assert_subject_independent(m)


# ------------------------------------------------------------------ Oulu-CASIA
OULU = ["Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise"]


def write_oulu(root: Path, faces, subjects: int = 10) -> None:
    for s in range(subjects):
        for light in ("Strong", "Weak"):
            for expr in OULU:
                write_images(root / "VL" / light / f"P{s + 1:03d}" / expr, face(faces, expr.lower(), s)[:4], "{t:03d}.jpeg")


def test_oulu_layout(tmp_path, faces):
    root = tmp_path / "oulu"
    write_oulu(root, faces)
    m = manifest_of("oulu", root, tmp_path)
    assert len(m.samples) == 60 and all("/VL/Strong/" in s.path for s in m.samples)
    assert [m.classes[s.label] for s in m.samples[:6]] == [e.lower() for e in OULU]
    assert all(s.apex == 3 for s in m.samples)
    assert_subject_independent(m, seed=3)
    weak = manifest_of("oulu", root, tmp_path, illumination="Weak")
    assert all("/Weak/" in s.path for s in weak.samples)
    with pytest.raises(DatasetLayoutError, match="Dark"):
        manifest_of("oulu", root, tmp_path, illumination="Dark")


# ------------------------------------------------------------------ BU-3DFE / BU-4DFE
def test_bu3dfe_and_bu4dfe_layouts(tmp_path, faces):
    root3, root4 = tmp_path / "bu3", tmp_path / "bu4"
    codes = {"AN": "anger", "DI": "disgust", "FE": "fear", "HA": "happiness", "SA": "sadness", "SU": "surprise"}
    for s in range(10):
        subj = f"{'FM'[s % 2]}{s + 1:04d}"
        Image.fromarray(face(faces, "neutral", s)[0]).save(root3.joinpath(subj).mkdir(parents=True) or root3 / subj / f"{subj}_NE00WH_F2D.bmp")
        for code, cls in codes.items():
            for level in range(1, 5):
                Image.fromarray(face(faces, cls, s)[level]).save(root3 / subj / f"{subj}_{code}{level:02d}WH_F2D.bmp")
            write_images(root4 / f"{subj[0]}{s + 1:03d}" / cls.capitalize().replace("Happiness", "Happy").replace("Sadness", "Sad").replace("Anger", "Angry"),
                         face(faces, cls, s)[:5], "{t:03d}.jpg")
    m3 = manifest_of("bu3dfe", root3, tmp_path)
    assert m3.modality == "image" and len(m3.samples) == 10 * 6 * 2
    assert {s.meta["intensity"] for s in m3.samples} == {3, 4}
    assert all(m3.classes[s.label] == codes[s.id.split("_")[1][:2]] for s in m3.samples)
    assert_subject_independent(m3)
    assert len(manifest_of("bu3dfe", root3, tmp_path, intensities="1,2,3,4").samples) == 240
    with pytest.raises(OptionError, match="levels 1-4"):
        manifest_of("bu3dfe", root3, tmp_path, intensities="5")
    m4 = manifest_of("bu4dfe", root4, tmp_path)
    assert m4.modality == "video" and len(m4.samples) == 60 and all(s.apex == 2 for s in m4.samples)
    assert sorted({m4.classes[s.label] for s in m4.samples}) == sorted(codes.values())
    assert_subject_independent(m4)


# ------------------------------------------------------------------ DFEW
DFEW_CODES = {"happiness": 1, "sadness": 2, "neutral": 3, "anger": 4, "surprise": 5, "disgust": 6, "fear": 7}


def write_dfew(root: Path, faces, clips: int = 20) -> dict[str, int]:
    """Clip/original/NNNNN.mp4 + the 5 train/test split csvs; returns clip stem -> official fold."""
    fold_of, labels = {}, {}
    classes = list(DFEW_CODES)
    for n in range(1, clips + 1):
        cls = classes[n % 7]
        write_video(root / "Clip" / "original" / f"{n:05d}.mp4", face(faces, cls, n), codec="libx264")
        fold_of[f"{n:05d}"] = (n * 7) % 5
        labels[n] = DFEW_CODES[cls]
    for kind in ("train", "test"):
        d = root / "EmoLabel_DataSplit" / f"{kind}(single-labeled)"
        d.mkdir(parents=True, exist_ok=True)
        for k in range(5):
            with (d / f"set_{k + 1}.csv").open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["video_name", "label"])
                for n, code in labels.items():
                    if (fold_of[f"{n:05d}"] == k) == (kind == "test"):
                        w.writerow([n, code])
    return fold_of


def test_dfew_official_folds(tmp_path, faces):
    root = tmp_path / "dfew"
    fold_of = write_dfew(root, faces)
    m = manifest_of("dfew", root, tmp_path)
    assert m.protocol.kind == "predefined" and m.protocol.folds == 5
    assert {s.id: s.meta["fold"] for s in m.samples} == fold_of
    folds = make_folds(m, seed=0)
    for f in folds:
        assert set(f.test) == {i for i, k in fold_of.items() if k == f.index}
        assert set(f.train) == {i for i, k in fold_of.items() if k != f.index}
    assert make_folds(m, seed=5) == folds  # the official folds do not depend on the seed
    (root / "Clip" / "original" / "00003.mp4").unlink()
    with pytest.raises(DatasetLayoutError, match="00003"):
        manifest_of("dfew", root, tmp_path)


# ------------------------------------------------------------------ AffectNet / RAF-DB / SFEW
AFFECTNET_CODES = {"neutral": 0, "happiness": 1, "sadness": 2, "surprise": 3, "fear": 4, "disgust": 5, "anger": 6, "contempt": 7}


def test_affectnet_layout(tmp_path, faces):
    root = tmp_path / "affectnet"
    header = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height", "facial_landmarks", "expression", "valence", "arousal"]
    lists = root / "Manually_Annotated_file_lists"
    lists.mkdir(parents=True)
    for split, fname in (("train", "training.csv"), ("val", "validation.csv")):
        with (lists / fname).open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for code in list(range(8)) + [8, 10]:  # 8 none, 10 no-face: never used
                rel = f"{code + 1}/{split}_{code}.jpg"
                cls = [c for c, k in AFFECTNET_CODES.items() if k == code]
                img = root / "Manually_Annotated_Images" / rel
                img.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(face(faces, cls[0] if cls and cls[0] != "contempt" else "neutral", code)[-1]).save(img)
                w.writerow([rel, 2, 2, 60, 60, "", code, 0.1, 0.2])
    m = manifest_of("affectnet", root, tmp_path)
    assert m.classes == list(AFFECTNET_CODES) and m.modality == "image"
    assert len(m.samples) == 16 and m.protocol.eval_split == "val"
    assert all(Path(s.path).stem == f"{s.split}_{AFFECTNET_CODES[m.classes[s.label]]}" for s in m.samples)
    assert len(manifest_of("affectnet", root, tmp_path, classes="7").samples) == 14
    (root / "Manually_Annotated_Images" / "1" / "val_0.jpg").unlink()
    with pytest.raises(DatasetLayoutError, match="val_0.jpg"):
        manifest_of("affectnet", root, tmp_path)
    assert len(manifest_of("affectnet", root, tmp_path, skip_missing="true").samples) == 15


def test_rafdb_layout(tmp_path, faces):
    root = tmp_path / "RAF" / "basic"
    codes = {"surprise": 1, "fear": 2, "disgust": 3, "happiness": 4, "sadness": 5, "anger": 6, "neutral": 7}
    lines = []
    for split, count in (("train", 14), ("test", 7)):
        for i in range(count):
            cls = list(codes)[i % 7]
            name = f"{split}_{i + 1:05d}" if split == "train" else f"test_{i + 1:04d}"
            write_images(root / "Image" / "aligned", face(faces, cls, i)[-1:], f"{name}_aligned.jpg")
            lines.append(f"{name}.jpg {codes[cls]}")
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    m = manifest_of("rafdb", root.parent, tmp_path)  # the folder holding basic/ works too
    assert len(m.samples) == 21 and m.protocol.eval_split == "test"
    assert sum(s.split == "test" for s in m.samples) == 7
    assert all(m.classes[s.label] == list(codes)[(int(s.id.split("_")[1]) - 1) % 7] for s in m.samples)
    (folds,) = [make_folds(m)]
    assert len(folds[0].test) == 7
    with pytest.raises(DatasetLayoutError, match="original"):
        manifest_of("rafdb", root, tmp_path, images="original")


def test_sfew_layout(tmp_path, faces):
    root = tmp_path / "sfew"
    for split in ("Train", "Val"):
        for folder, cls in zip(AFEW_FOLDERS, AFEW_CANON):
            write_images(root / split / folder, face(faces, cls, 1)[-2:], f"{split}_{folder}_{{t}}.png")
    m = manifest_of("sfew", root, tmp_path)
    assert m.modality == "image" and len(m.samples) == 28 and m.classes == AFEW_CANON
    assert all(Path(s.path).parent.name == AFEW_FOLDERS[s.label] for s in m.samples)
    assert read_frames(m.samples[0].path).shape == (1, 64, 64, 3)


# ------------------------------------------------------------------ folder
def test_folder_kfold_with_subject_regex(tmp_path, faces):
    root = tmp_path / "tree"
    for s in range(6):
        write_video(root / "happy" / f"subj{s}_a.avi", face(faces, "happiness", s))
        write_images(root / "sad" / f"subj{s}_seq", face(faces, "sadness", s)[:3], "{t}.png")
    m = manifest_of("folder", root, tmp_path, subject_regex=r"subj(\d+)", folds="3")
    assert m.classes == ["happy", "sad"] and m.modality == "video" and len(m.samples) == 12
    assert {s.subject for s in m.samples} == {str(i) for i in range(6)}
    assert len(assert_subject_independent(m)) == 3
    with pytest.raises(DatasetLayoutError, match="does not match"):
        manifest_of("folder", root, tmp_path, subject_regex=r"person(\d+)")
    with pytest.raises(OptionError, match="regular expression"):
        manifest_of("folder", root, tmp_path, subject_regex="(")


def test_folder_splits_and_images(tmp_path, faces):
    root = tmp_path / "tree"
    for split in ("train", "val"):
        for cls in ("anger", "fear"):
            write_images(root / split / cls, face(faces, cls, 0)[:2], "{t}.jpg")
    m = manifest_of("folder", root, tmp_path, name="mine")
    assert m.dataset == "mine" and m.modality == "image" and m.protocol.kind == "official"
    assert m.protocol.eval_split == "val" and len(m.samples) == 8
    (root / "extra").mkdir()
    with pytest.raises(DatasetLayoutError, match="extra"):
        manifest_of("folder", root, tmp_path)


# ------------------------------------------------------------------ bad roots and links (issue 14, items 11 and 15)
def test_a_root_that_is_a_file_says_so(tmp_path):
    (tmp_path / "afew.zip").write_bytes(b"PK")
    with pytest.raises(DatasetLayoutError, match=r"root .*afew\.zip is a file, not a folder; pass the folder that holds"):
        manifest_of("afew", tmp_path / "afew.zip", tmp_path)
    with pytest.raises(DatasetLayoutError, match="does not exist"):
        manifest_of("afew", tmp_path / "missing", tmp_path)


def test_symlinks_leading_outside_the_root_are_refused_one_line_each(tmp_path, faces, capsys):
    root, elsewhere = tmp_path / "tree", tmp_path / "elsewhere"
    for s in range(3):
        write_images(root / "happy" / f"seq{s}", face(faces, "happiness", s)[:2], "{t}.png")
    write_video(elsewhere / "sad" / "clip.avi", face(faces, "sadness", 0))
    write_video(elsewhere / "secret.avi", face(faces, "happiness", 1))
    write_images(elsewhere / "frames", face(faces, "happiness", 2)[:2], "{t}.png")
    (root / "sad").symlink_to(elsewhere / "sad", target_is_directory=True)  # a class folder outside
    (root / "happy" / "linked.avi").symlink_to(elsewhere / "secret.avi")  # a file outside
    (root / "happy" / "seq0" / "2.png").symlink_to(elsewhere / "frames" / "0.png")  # one frame of a sequence
    (root / "happy" / "inside.avi").symlink_to(root / "sad" / "clip.avi")  # leads through the outside class folder
    (root / "happy" / "alias").symlink_to(root / "happy" / "seq1", target_is_directory=True)  # inside: fine
    m = manifest_of("folder", root, tmp_path)
    assert sorted(s.id for s in m.samples) == ["happy/alias", "happy/seq1", "happy/seq2"]
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("refused: dataset 'folder' sample ") for line in lines)
    by_id = {line.split(" sample ")[1].split(":")[0]: line for line in lines}
    assert f"{root / 'sad'} leads to {elsewhere / 'sad'}, outside --root {root}" in by_id["sad/clip.avi"]
    assert f"{root / 'happy' / 'linked.avi'} leads to {elsewhere / 'secret.avi'}" in by_id["happy/linked.avi"]
    assert f"{root / 'happy' / 'seq0' / '2.png'} leads to" in by_id["happy/seq0"]
    assert "outside_links=follow" in by_id["happy/inside.avi"]
    assert sorted(i for i, _ in m.info["refused"]) == sorted(by_id)
    allowed = manifest_of("folder", root, tmp_path, outside_links="follow")
    assert len(allowed.samples) == 7 and "refused" not in allowed.info
    assert capsys.readouterr().err == ""
