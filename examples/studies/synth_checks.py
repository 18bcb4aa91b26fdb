"""SynthFER sanity checks (about a minute on 2 cores).

1. Identity leaks through I-frames: a logistic regression on 24x24 grey
   first frames (the I-frame of every clip) predicts the subject of held-out
   videos of the same subjects far above chance.
2. Apex frames differ from the first (neutral) frame mainly where the class's
   action units act: per class, mean |apex - first| inside the landmark boxes
   of the regions the class moves, divided by the mean elsewhere in the frame.

    python examples/studies/synth_checks.py [--subjects 12] [--frames 6] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression

from ferbench.data.video import read_video
from ferbench.datasets.synthetic.generate import generate
from ferbench.datasets.synthetic.options import SynthOptions

REGIONS = {"brows": range(17, 27), "eyes": range(36, 48), "nose": range(27, 36), "mouth": range(48, 68)}
#: face regions each class's prototype moves (see action_units.PROTOTYPES)
MOVED = {
    "anger": ("brows", "eyes", "mouth"), "disgust": ("brows", "nose", "mouth"),
    "fear": ("brows", "eyes", "mouth"), "happiness": ("eyes", "mouth"), "sadness": ("brows", "eyes", "mouth"),
    "surprise": ("brows", "eyes", "mouth"), "contempt": ("mouth",), "neutral": ("brows", "eyes", "nose", "mouth"),
}


def region_mask(lm2d: np.ndarray, regions: tuple[str, ...], size: int, margin: float) -> np.ndarray:
    """Boolean [S, S] union of the landmark boxes of ``regions`` (lm2d [N, 68, 2] pixels)."""
    mask = np.zeros((size, size), bool)
    for name in regions:
        pts = lm2d[:, list(REGIONS[name])].reshape(-1, 2)
        x0, y0 = np.floor(pts.min(0) - margin).astype(int)
        x1, y1 = np.ceil(pts.max(0) + margin).astype(int)
        if name == "mouth":  # the jaw drops below the lips
            y1 += int(margin)
        mask[max(y0, 0):max(y1 + 1, 0), max(x0, 0):max(x1 + 1, 0)] = True
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--cache-dir", default=None, help="reuse generated data here (default: temp dir)")
    args = parser.parse_args()
    opts = SynthOptions(subjects=args.subjects, frames=args.frames, videos_per_class=2.0, workers=2)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        manifest = generate(opts, "synthetic", args.cache_dir or tmp)
        print(f"generated {len(manifest.samples)} videos in {time.perf_counter() - start:.1f} s "
              f"({opts.subjects} subjects, {opts.frames} frames, {opts.size}px)")
        videos = {s.id: read_video(s.path) for s in manifest.samples}

        # 1. subject id from I-frames (first frame of each clip), held-out videos of the same subjects
        subjects = sorted({s.subject for s in manifest.samples})
        x, y, held = [], [], []
        for s in manifest.samples:
            grey = Image.fromarray(videos[s.id][0]).convert("L").resize((24, 24), Image.BILINEAR)
            x.append(np.asarray(grey, np.float32).ravel() / 255.0)
            y.append(subjects.index(s.subject))
            held.append(int(s.id.split("_v")[1]) % 2 == 1)  # odd videos held out
        x, y, held = np.stack(x), np.array(y), np.array(held)
        x = (x - x[~held].mean(0)) / (x[~held].std(0) + 1e-3)
        clf = LogisticRegression(max_iter=2000, C=0.05).fit(x[~held], y[~held])
        acc = (clf.predict(x[held]) == y[held]).mean()
        print(f"[1] subject id from I-frames: accuracy {100 * acc:.1f}% on {held.sum()} held-out videos "
              f"vs chance {100 / len(subjects):.1f}% ({len(subjects)} subjects)")

        # 2. apex-vs-first difference inside moved regions vs elsewhere
        ratios = defaultdict(list)
        for s in manifest.samples:
            v = videos[s.id].astype(np.float32)
            diff = np.abs(v[s.apex] - v[0]).mean(axis=2)
            with np.load(s.meta["landmarks"]) as z:
                lm = z["landmarks_2d"][[0, s.apex]]
            name = manifest.classes[s.label]
            inside = region_mask(lm, MOVED[name], opts.size, margin=0.04 * opts.size)
            ratios[name].append((diff[inside].mean(), diff[~inside].mean()))
        print("[2] mean |apex - first| inside the regions the class moves / elsewhere:")
        for name in manifest.classes:
            pairs = np.array(ratios[name])
            inside, outside = pairs.mean(0)
            print(f"    {name:10s} regions {'+'.join(MOVED[name]):22s} inside {inside:5.2f}  "
                  f"elsewhere {outside:5.2f}  ratio {inside / outside:5.2f}")


if __name__ == "__main__":
    main()
