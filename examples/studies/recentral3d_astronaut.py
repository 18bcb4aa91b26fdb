"""recentral3d on a real face: scikit-image's astronaut photo (public domain, bundled with scikit-image).

MTCNN finds the face box, MediaPipe 0.10.14's face mesh returns 468 3D points;
re-centralization (Eq. 1 on the 68 landmark stand-ins against the frontal
template) of in-plane rotated copies of the photo must recover the applied
rotation. Writes plugins/ferbench_recentral3d/results/astronaut.{json,png}.

    pip install -e '.[mesh]'
    python examples/studies/recentral3d_astronaut.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[2] / "plugins" / "ferbench_recentral3d" / "results"
ANGLES = (-30.0, -15.0, 10.0, 20.0, 30.0)


def in_plane(deg: float) -> np.ndarray:
    """The 3D rotation (x right, y down, z to camera) of skimage.transform.rotate(img, deg)."""
    t = np.deg2rad(-deg)  # skimage turns counter-clockwise on screen = clockwise in y-down coordinates
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import skimage.data
    import skimage.transform

    from ferbench_recentral3d.face_points import MESH_TO_68, mesh_estimator
    from ferbench_recentral3d.geometry import frontal_template, procrustes, recentralize, rotation_angle_deg

    img = skimage.data.astronaut()
    est = mesh_estimator()
    p0 = est(img)
    if p0 is None:
        raise SystemExit("no face found in the astronaut photo")
    tpl = frontal_template()
    f0 = procrustes(p0[MESH_TO_68], tpl)
    r0 = recentralize(p0, correspondences=MESH_TO_68)
    rows, shots = [], []
    for deg in ANGLES:
        rot = skimage.transform.rotate(img, deg, preserve_range=True).round().astype(np.uint8)
        pr = est(rot)
        if pr is None:
            rows.append({"angle_deg": deg, "found": False})
            continue
        fr = procrustes(pr[MESH_TO_68], tpl)
        recovered = fr.rotation.T @ f0.rotation  # maps the original face onto the rotated one
        rr = recentralize(pr, correspondences=MESH_TO_68)
        both = r0.visible & rr.visible
        rows.append({
            "angle_deg": deg, "found": True,
            "recovered_angle_deg": round(rotation_angle_deg(recovered, np.eye(3)), 2),
            "error_deg": round(rotation_angle_deg(recovered, in_plane(deg)), 2),
            "shading_mae_vs_original": round(float(np.abs(r0.shading[both] - rr.shading[both]).mean()), 4),
        })
        shots.append((deg, rot, pr, rr))
    out = {"image": "skimage.data.astronaut() 512x512", "mesh_points": int(p0.shape[0]),
           "face_box": list(map(int, est.box(img))),
           "original_pose_angle_to_template_deg": round(rotation_angle_deg(f0.rotation, np.eye(3)), 2),
           "rotated_copies": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "astronaut.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))

    pick = [s for s in shots if s[0] in (-30.0, 20.0)]
    fig, ax = plt.subplots(2, 1 + len(pick), figsize=(3.2 * (1 + len(pick)), 6.4))
    for col, (title, im, pts, rc) in enumerate([("original", img, p0, r0)] + [(f"rotated {d:+.0f} deg", i, p, r)
                                                                             for d, i, p, r in pick]):
        x0, y0, x1, y1 = est.box(im)
        ax[0, col].imshow(im[y0:y1, x0:x1])
        ax[0, col].scatter(pts[:, 0] - x0, pts[:, 1] - y0, s=0.6, c="c")
        ax[0, col].scatter(pts[MESH_TO_68, 0] - x0, pts[MESH_TO_68, 1] - y0, s=4, c="r")
        ax[0, col].set_title(title)
        ax[1, col].imshow(rc.shading, cmap="gray", vmin=0, vmax=1)
        ax[1, col].set_title("re-centralized shading")
        for a in ax[:, col]:
            a.axis("off")
    fig.tight_layout()
    fig.savefig(RESULTS / "astronaut.png", dpi=80)


if __name__ == "__main__":
    main()
