"""recentral3d: Procrustes (Eq. 1), normals, shading (Eq. 2), landmark distances (Eq. 3-4), branch shapes,
conformance of the inputs/backbone, an end-to-end run, errors."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest
import torch

from ferbench.components import InputSignature
from ferbench.engine.config import make_config
from ferbench.engine.runner import Runner
from ferbench.errors import FerbenchError, IncompatibleCombinationError
from ferbench.testing import check_component
from ferbench_recentral3d import face_points
from ferbench_recentral3d.fusion import Branch2D, BranchShading, FusionBackbone, FusionOptions
from ferbench_recentral3d.geometry import (
    NUM_DISTANCES,
    euler_matrix,
    frontal_template,
    landmark_distances,
    plane_normals,
    procrustes,
    recentralize,
    rotation_angle_deg,
)
from ferbench_recentral3d.inputs import apex_indices
from ferbench_recentral3d.reported import reported_results

TINY = {"subjects": "2", "folds": "2", "pose": "40"}


@pytest.fixture(scope="module")
def tiny_manifest(tmp_path_factory):
    from ferbench.datasets.synthetic.generate import generate
    from ferbench.datasets.synthetic.options import SynthTinyOptions

    cache = tmp_path_factory.mktemp("synth")
    return generate(SynthTinyOptions(subjects=2, folds=2, pose=40), "synthetic-tiny", cache), cache


# --------------------------------------------------------------------------- Eq. 1


@pytest.mark.parametrize("angles", [(30, 0, 0), (-40, 15, 10), (5, -25, 30)])
def test_procrustes_recovers_rotation_scale_translation(angles):
    tpl = frontal_template()
    r = euler_matrix(*angles)
    posed = 37.0 * tpl @ r.T + np.array([50.0, 60.0, -3.0])
    fit = procrustes(posed, tpl)
    assert rotation_angle_deg(fit.rotation, r.T) < 1e-6
    assert fit.scale == pytest.approx(1 / 37.0)
    np.testing.assert_allclose(fit.apply(posed), tpl, atol=1e-9)
    np.testing.assert_allclose(fit.inverse(tpl), posed, atol=1e-7)


def test_procrustes_is_reflection_corrected_and_needs_six_points():
    tpl = frontal_template()
    mirrored = tpl * np.array([-1.0, 1.0, 1.0])
    fit = procrustes(mirrored, tpl)
    assert np.linalg.det(fit.rotation) == pytest.approx(1.0)
    # six noisy correspondences suffice; five do not
    rng = np.random.default_rng(0)
    r = euler_matrix(20, 10, -5)
    idx = rng.choice(68, 6, replace=False)
    noisy = tpl @ r.T + rng.normal(0, 1e-3, tpl.shape)
    assert rotation_angle_deg(procrustes(noisy[idx], tpl[idx]).rotation, r.T) < 1.0
    with pytest.raises(FerbenchError, match=">= 6"):
        procrustes(noisy[idx[:5]], tpl[idx[:5]])


# --------------------------------------------------------------------------- normals


def test_normals_of_a_plane():
    rng = np.random.default_rng(1)
    n = np.array([0.3, -0.2, 0.9])
    n /= np.linalg.norm(n)
    a = np.cross(n, [1.0, 0, 0])
    a /= np.linalg.norm(a)
    b = np.cross(n, a)
    uv = rng.uniform(-1, 1, (400, 2))
    pts = uv[:, :1] * a + uv[:, 1:] * b + 2.0
    got = plane_normals(pts, 10)
    np.testing.assert_allclose(got, np.broadcast_to(n, got.shape), atol=1e-8)


def test_normals_of_a_sphere_point_outward():
    rng = np.random.default_rng(2)
    d = rng.normal(size=(4000, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    front = d[d[:, 2] > 0.2]
    got = plane_normals(3.0 * front, 10)
    cos = (got * front).sum(1)
    assert cos.min() > 0.99  # oriented toward the viewer (+z) = outward on the front half


# --------------------------------------------------------------------------- Eq. 3-4


def test_landmark_distance_vector():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 100, (68, 2))
    d = landmark_distances(p)
    assert d.shape == (NUM_DISTANCES,) == (2278,)
    span = p.max(0) - p.min(0)
    q = (p - p[30]) / span
    assert d[0] == pytest.approx(np.linalg.norm(q[0] - q[1]), rel=1e-6)  # d_{1,2}
    assert d[1] == pytest.approx(np.linalg.norm(q[0] - q[2]), rel=1e-6)  # d_{1,3}
    assert d[-1] == pytest.approx(np.linalg.norm(q[66] - q[67]), rel=1e-6)  # d_{67,68}
    # min-max normalisation: invariant to translation and per-axis scale; batched over frames
    moved = p * np.array([2.0, 0.5]) + 7.0
    np.testing.assert_allclose(landmark_distances(np.stack([p, moved])), np.stack([d, d]), rtol=1e-5)
    with pytest.raises(FerbenchError):
        landmark_distances(p[:60])


# --------------------------------------------------------------------------- shading


def test_recentralized_shading_is_pose_invariant_and_masks_hidden_points():
    tpl = frontal_template()
    front = recentralize(40.0 * tpl)
    turned = recentralize(40.0 * tpl @ euler_matrix(35, 10, -10).T + 50.0)
    assert front.shading.shape == (100, 100) and front.shading.dtype == np.float32
    assert front.visible.sum() == front.on_face.sum() > 4000  # nothing hidden in a frontal view
    assert turned.visible.sum() < turned.on_face.sum()  # the cheek behind the nose is masked
    both = front.visible & turned.visible
    assert np.abs(front.shading[both] - turned.shading[both]).mean() < 0.02
    assert (turned.shading[~turned.visible] == 0).all()
    unmasked = recentralize(40.0 * tpl @ euler_matrix(35, 10, -10).T, mask_hidden=False)
    assert unmasked.visible.sum() == unmasked.on_face.sum()


def test_shading_follows_the_light():
    tpl = frontal_template()
    frontal = recentralize(tpl).shading
    side = recentralize(tpl, light=np.array([1.0, 0.0, 0.0])).shading
    vis = frontal > 0
    left, right = side[:, :40][vis[:, :40]], side[:, 60:][vis[:, 60:]]
    assert right.mean() > left.mean() + 0.1  # light from +x brightens the right half


# --------------------------------------------------------------------------- network


def test_branch_shapes_and_filters():
    x = torch.randn(2, 3, 100, 100)
    b2 = Branch2D(3, 100, 0.4).eval()
    assert b2(x).shape == (2, 128)
    convs = [m.out_channels for m in b2.trunk.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [128, 64, 64, 128, 64, 64, 256, 256]  # 7 convolutions + the block's projection shortcut
    assert [m.out_features for m in b2.head if isinstance(m, torch.nn.Linear)] == [1024, 1024, 128]
    b3 = BranchShading(100, 128, 0.4).eval()
    assert b3(torch.randn(2, 1, 100, 100)).shape == (2, 128)
    assert [m.out_channels for m in b3.trunk.modules() if isinstance(m, torch.nn.Conv2d)] == [256, 128, 64]
    sig = InputSignature(1, 1, 100, 100, {"face": (1, 3, 100, 100), "landmark_distances": (1, 2278)})
    net = FusionBackbone(FusionOptions(), sig).eval()
    assert [m.out_features for m in net.branch_lm if isinstance(m, torch.nn.Linear)] == [1024, 512, 256, 128]
    assert net.fusion[0].in_features == 384 and [m.out_features for m in net.fusion if isinstance(m, torch.nn.Linear)] == [512, 128]
    y = net(torch.randn(2, 1, 100, 100), face=x, landmark_distances=torch.randn(2, 2278))
    assert y.shape == (2, 128)


SHADING_SIG = InputSignature(1, 2, 32, 32, {"face": (2, 3, 32, 32), "landmark_distances": (2, 2278)})
FACE_SIG = InputSignature(3, 2, 32, 32, {"landmark_distances": (2, 2278)})


def test_backbone_conformance(registry):
    spec = registry.get("backbone", "recentral3d-fusion")
    check_component(spec, signature=SHADING_SIG)
    for branches, sig in [("base", FACE_SIG), ("base+landmark", FACE_SIG), ("base+3d", SHADING_SIG)]:
        net = spec.factory(FusionOptions(branches=branches), sig)
        assert net.fusion[0].in_features == 128 * (1 + branches.count("+"))
    with pytest.raises(ValueError, match="shading"):
        spec.factory(FusionOptions(), FACE_SIG)


def test_inputs_conformance_and_content(registry, tiny_manifest):
    manifest, _ = tiny_manifest
    sample = manifest.samples[0]
    assert check_component(registry.get("input", "shading3d"), sample=sample)
    assert check_component(registry.get("input", "landmarks"), sample=sample)
    rep = registry.get("input", "shading3d").factory(registry.get("input", "shading3d").options(frames=3))
    loaded = rep.load(sample)
    assert loaded["frame_index"].tolist() == sorted(apex_indices(sample.num_frames, sample.apex, 3).tolist())
    drawn = rep.sample(loaded, train=False, generator=torch.Generator())
    assert drawn["x"].shape == (3, 1, 100, 100) and drawn["face"].shape == (3, 3, 100, 100)
    assert drawn["landmark_distances"].shape == (3, 2278)
    assert (drawn["x"] > -1).float().mean() > 0.3  # a face was rendered
    assert apex_indices(16, 15, 3).tolist() == [15, 13, 11] and apex_indices(8, None, 2).tolist() == [7, 5]


def test_end_to_end_run_and_bad_combination(registry, tmp_path, tiny_manifest):
    _, cache = tiny_manifest
    dirs = {"cache_dir": str(cache), "output_dir": str(tmp_path / "out")}
    small = {"face_size": "32", "size": "32"}
    cfg = make_config({"dataset": "synthetic-tiny", "input": "shading3d", "backbone": "recentral3d-fusion"},
                      {"dataset": TINY, "input": small}, {"epochs": 1, "batch_size": 4, "lr": 1e-3}, folds=(0,), **dirs)
    result = Runner(cfg, registry, progress=False, log=lambda s: None).run()
    assert 0.0 <= result.folds[0].metrics["war"] <= 100.0
    bad = make_config({"dataset": "synthetic-tiny", "input": "landmarks", "backbone": "recentral3d-fusion"},
                      {"dataset": TINY}, {"epochs": 1}, folds=(0,), **dirs)
    with pytest.raises(IncompatibleCombinationError, match="shading"):
        Runner(bad, registry, progress=False, log=lambda s: None).run()


def test_missing_mediapipe_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    face_points.mesh_estimator.cache_clear()
    with pytest.raises(FerbenchError, match=r"pip install -e '\.\[mesh\]'"):
        face_points.MeshEstimator()
    face_points.mesh_estimator.cache_clear()


def test_reported_rows(registry):
    rows = [r for r in registry.reported_results() if r.paper == "recentral3d"]
    assert len(rows) == len(reported_results()) >= 20
    key = {(r.method, r.dataset, r.metric): r.value for r in rows}
    assert key[("Our Model", "rafdb", "war")] == 81.60 and key[("Our Model (FL)", "rafdb", "uar")] == 74.14
    assert key[("Our Model", "ckplus", "war")] == 95.41 and key[("Our Model", "oulu", "war")] == 84.86


def test_real_face_mesh_recovers_an_in_plane_rotation(tmp_path):
    pytest.importorskip("mediapipe", reason="MediaPipe face mesh is the optional extra: pip install -e '.[mesh]'")
    import skimage.data
    import skimage.transform

    from ferbench_recentral3d.face_points import MESH_TO_68, mesh_estimator

    assert len(MESH_TO_68) == len(set(MESH_TO_68.tolist())) == 68
    img = skimage.data.astronaut()
    est = mesh_estimator()
    p0 = est(img)
    rot = skimage.transform.rotate(img, 20.0, preserve_range=True).round().astype(np.uint8)
    p1 = est(rot)
    assert p0.shape == p1.shape == (468, 3)
    tpl = frontal_template()
    recovered = procrustes(p1[MESH_TO_68], tpl).rotation.T @ procrustes(p0[MESH_TO_68], tpl).rotation
    assert rotation_angle_deg(recovered, euler_matrix(0, 0, -20.0)) < 4.0  # skimage turns counter-clockwise
    shading = recentralize(p0, correspondences=MESH_TO_68)
    assert shading.visible.mean() > 0.3
    # the input on a real image file without ground truth goes through MTCNN + face mesh
    from PIL import Image

    from ferbench.data.manifest import Sample
    from ferbench_recentral3d.inputs import Shading3DOptions, build_shading3d

    Image.fromarray(img).save(tmp_path / "astronaut.png")
    rep = build_shading3d(Shading3DOptions())
    loaded = rep.load(Sample(id="astronaut", path=str(tmp_path / "astronaut.png"), label=0, subject="a"))
    drawn = rep.sample(loaded, train=False, generator=torch.Generator())
    assert drawn["x"].shape == (1, 1, 100, 100) and (drawn["x"] > -1).float().mean() > 0.3
    assert drawn["face"].shape == (1, 3, 100, 100) and drawn["landmark_distances"].shape == (1, 2278)


# --------------------------------------------------------------------------- issue 14, items 7 and 14


class FakeMesh:
    """Stands in for MTCNN + MediaPipe: a fixed 468-point face, or None on a black frame."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        tpl = frontal_template()
        pts = tpl[rng.integers(0, 68, 468)] + rng.normal(0, 0.02, (468, 3))
        pts[face_points.MESH_TO_68] = tpl
        self.points = pts * 20.0 + np.array([32.0, 32.0, 0.0])

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        return None if frame.mean() < 5 else self.points.copy()


def test_a_frame_without_a_mesh_fails_only_its_sample_and_names_the_true_frame(monkeypatch, tmp_path, registry):
    import json

    from PIL import Image

    from ferbench.data.manifest import Sample
    from ferbench_recentral3d.inputs import LandmarksOptions, build_landmarks

    rng = np.random.default_rng(1)
    root = tmp_path / "tree"
    for cls in ("a", "b"):
        for k in range(3):
            seq = root / cls / f"seq{k}"
            seq.mkdir(parents=True)
            for t in range(8):
                frame = rng.integers(40, 220, (64, 64, 3), dtype=np.uint8)
                if (cls, k, t) == ("a", 1, 5):
                    frame[:] = 0  # no face in frame 5 (the second kept frame: apex 7, then 5)
                Image.fromarray(frame).save(seq / f"{t}.png")
    monkeypatch.setattr(face_points, "mesh_estimator", lambda: FakeMesh())
    rep = build_landmarks(LandmarksOptions(frames=2, face_size=32, points="mesh"))
    with pytest.raises(FerbenchError, match=r"sample a/seq1: no face found by the face mesh in frame 5 of "):
        rep.load(Sample(id="a/seq1", path=str(root / "a" / "seq1"), label=0, subject="a1"))
    assert rep.load(Sample(id="a/seq0", path=str(root / "a" / "seq0"), label=0, subject="a0"))["frame_index"].tolist() == [5, 7]

    cfg = make_config({"dataset": "folder", "input": "landmarks", "backbone": "small-cnn", "aggregator": "mean"},
                      {"dataset": {"folds": "2", "prepared": "no"}, "input": {"frames": "2", "face_size": "32", "points": "mesh"}},
                      {"epochs": 1, "batch_size": 4}, root=str(root), cache_dir=str(tmp_path / "cache"),
                      output_dir=str(tmp_path / "out"))
    runner = Runner(cfg, registry, progress=False, log=lambda s: None)
    result = runner.run()  # the run goes on without the sample
    failures = json.loads((runner.run_dir / "failures.json").read_text())
    assert [f["id"] for f in failures] == ["a/seq1"] and "in frame 5 of" in failures[0]["reason"]
    assert sum(f.metrics["n_left_out"] for f in result.folds) == 1
    assert sum(f.metrics["n_scored"] for f in result.folds) == 5


def test_native_log_lines_are_silenced(capfd):
    with face_points.quiet_native_logs():
        os.write(2, b"W0000 00:00:1 inference_feedback_manager.cc:114] Feedback manager requires a model\n")
        warnings.warn("SymbolDatabase.GetPrototype() is deprecated. Please use message_factory", UserWarning)
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_mediapipe_prints_nothing_on_a_real_face():
    pytest.importorskip("mediapipe", reason="MediaPipe face mesh is the optional extra: pip install -e '.[mesh]'")
    import subprocess

    code = ("import skimage.data; from ferbench_recentral3d.face_points import mesh_estimator; "
            "est = mesh_estimator(); [est(skimage.data.astronaut()) for _ in range(2)]; import time; time.sleep(0.5)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
