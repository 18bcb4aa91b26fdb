"""Figure: SynthFER frames under wide pose/lighting, their landmarks, re-centralized shading maps.

Row 1: the original frame (apex) with the 68 ground-truth 2D landmarks; row 2:
the re-centralized 100x100 shading map (Eq. 2, hidden points masked, in
red) with the Procrustes-aligned landmarks overlaid; row 3: the same face
without masking, for comparison. Writes
plugins/ferbench_recentral3d/results/recentral3d_examples.png.

    python examples/studies/recentral3d_figure.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[2] / "plugins" / "ferbench_recentral3d" / "results"
CACHE = Path("/tmp/recentral3d_cache")
COLUMNS = 6


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ferbench.data.video import read_frames
    from ferbench.datasets.synthetic.generate import generate
    from ferbench.datasets.synthetic.options import SynthOptions
    from ferbench_recentral3d.geometry import recentralize, template_to_pixels

    manifest = generate(SynthOptions(pose=40.0, lighting=1.0), "synthetic", CACHE)
    yaws = []
    for s in manifest.samples:
        with np.load(s.meta["landmarks"]) as z:
            yaws.append(float(z["head_pose"][s.apex, 0]))
    yaws = np.array(yaws)
    chosen = []  # the sample whose apex yaw is nearest to each target, distinct samples
    for target in np.linspace(-38, 38, COLUMNS):
        order = np.argsort(np.abs(yaws - target))
        i = next(int(j) for j in order if int(j) not in {c[0] for c in chosen})
        chosen.append((i, manifest.samples[i], yaws[i]))
    fig, ax = plt.subplots(3, COLUMNS, figsize=(2.3 * COLUMNS, 7.2))
    for col, (_, s, _yaw) in enumerate(chosen):
        frame = read_frames(s.path)[s.apex]
        with np.load(s.meta["landmarks"]) as z:
            lm2, lm3, pose = z["landmarks_2d"][s.apex], z["landmarks_3d"][s.apex], z["head_pose"][s.apex]
        rc = recentralize(lm3)
        raw = recentralize(lm3, mask_hidden=False)
        ax[0, col].imshow(frame)
        ax[0, col].scatter(lm2[:, 0], lm2[:, 1], s=3, c="lime")
        ax[0, col].set_title(f"{manifest.classes[s.label]}\nyaw {pose[0]:+.0f} pitch {pose[1]:+.0f} roll {pose[2]:+.0f}",
                             fontsize=8)
        shown = np.stack([rc.shading] * 3, -1)
        shown[rc.on_face & ~rc.visible] = (0.8, 0.1, 0.1)
        ax[1, col].imshow(shown)
        px = template_to_pixels(rc.aligned, rc.shading.shape[0])
        ax[1, col].scatter(px[:, 0], px[:, 1], s=2, c="lime")
        ax[1, col].set_title(f"re-centralized, {100 * (1 - rc.visible.sum() / rc.on_face.sum()):.0f}% masked",
                             fontsize=8)
        ax[2, col].imshow(raw.shading, cmap="gray", vmin=0, vmax=1)
        ax[2, col].set_title("no masking", fontsize=8)
        for a in ax[:, col]:
            a.axis("off")
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "recentral3d_examples.png"
    fig.savefig(path, dpi=80)
    print(path)


if __name__ == "__main__":
    main()
