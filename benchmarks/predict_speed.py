"""``ferbench predict`` speed and memory on a 640x360 30 fps face video, face detection included.

Makes the test video locally: scikit-image's public-domain astronaut photo,
its face region scaled to about 130 px, moved along a smooth path (and slowly
turned) over a textured 640x360 background, 30 fps, H.264. Trains (or takes
with ``--bundle``) a small SynthFER model whose bundle frames faces at 112 px
with 16-frame windows, then:

1. speed: wall time of ``Predictor.predict`` on a ``--seconds`` video, as a
   multiple of real time (video seconds / wall seconds), for each
   ``--detect-every`` k (k = 1 detects every frame);
2. crop quality of tracking: on the first ``--quality-seconds``, the IoU between the
   crop boxes with k-th-frame detection and with every-frame detection;
3. peak memory: maximum resident set size of a fresh process predicting a
   ``--long-minutes`` video and a ``--seconds`` video (flat = about equal).

    python benchmarks/predict_speed.py [--seconds 60] [--long-minutes 10] [--detect-every 1,5,10]

Torch uses ``--threads`` intra-op threads (default 1, as ``ferbench predict``:
MTCNN's many small operations run fastest on one; PyAV decodes on its own
threads). Besides wall
time it prints CPU seconds (``time.process_time``, all threads): on a machine
shared with other work, video seconds per CPU second is the speed one core
would give with nothing else running. Numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 30


def _background(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = 90 + 50 * np.sin(x / 37.0) * np.cos(y / 53.0) + 30 * np.sin((x + y) / 91.0)
    img = np.stack([base, base * 0.9 + 20, base * 0.8 + 30], axis=-1)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _face() -> np.ndarray:
    from PIL import Image
    from skimage.data import astronaut

    # the astronaut's head and shoulders (face at about x 170-270, y 50-190 of the 512 px photo)
    crop = Image.fromarray(astronaut()).crop((120, 10, 330, 250))
    return np.asarray(crop.resize((190, 217), Image.BILINEAR))


def write_face_video(path: Path, seconds: float, seed: int = 0) -> int:
    """Write the test video (see the module docstring); returns its frame count."""
    import av
    from PIL import Image

    rng = np.random.default_rng(seed)
    background, face = _background(rng), _face()
    n = int(round(seconds * FPS))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(FPS))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for t in range(n):
            s = t / FPS
            angle = 8 * math.sin(s / 3.1)
            patch = np.asarray(Image.fromarray(face).rotate(angle, resample=Image.BILINEAR, fillcolor=(90, 90, 90)))
            cx = WIDTH / 2 + 170 * math.sin(s / 4.0)
            cy = HEIGHT / 2 + 40 * math.sin(s / 2.3)
            x0, y0 = int(cx - patch.shape[1] / 2), int(cy - patch.shape[0] / 2)
            frame = background.copy()
            ys, xs = slice(max(y0, 0), min(y0 + patch.shape[0], HEIGHT)), slice(max(x0, 0), min(x0 + patch.shape[1], WIDTH))
            frame[ys, xs] = patch[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return n


def make_bundle(work: Path) -> Path:
    """A small SynthFER model (synthetic-tiny at 112 px, 16 frames; rgb 64 px, 4 frames) as a bundle."""
    from ferbench.bundle.export import export_bundle
    from ferbench.engine.config import make_config
    from ferbench.engine.runner import Runner
    from ferbench.plugins import Registry

    registry = Registry()
    config = make_config({"dataset": "synthetic-tiny", "input": "rgb"},
                         {"dataset": {"size": 112, "frames": 16, "gop": 8}, "input": {"size": 64, "frames": 4}},
                         {"epochs": 1}, registry=registry, folds=(0,), cache_dir=str(work / "cache"),
                         output_dir=str(work / "out"))
    runner = Runner(config, registry, progress=False, log=lambda _: None)
    runner.run()
    out = work / "speed.ferbench"
    export_bundle(runner.config_hash, out, output_dir=work / "out", cache_dir=work / "cache", force=True,
                  log=lambda _: None)
    return out


def predict_once(bundle: Path, video: Path, every: int, threads: int, min_face: int = 40) -> dict:
    import ferbench

    b = ferbench.load(bundle, device="cpu")
    from ferbench.predict.options import PredictOptions
    from ferbench.predict.predictor import Predictor

    predictor = Predictor(b, PredictOptions(detect_every=every, min_face=min_face, threads=threads))
    predictor.detector(HEIGHT, WIDTH)  # built outside the timing
    start, cpu = time.perf_counter(), time.process_time()
    (pred,) = predictor.predict([video])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "frames": pred.frames, "face_frames": pred.face_frames, "status": pred.status,
            "video_s": pred.frames / pred.fps, "detections": predictor.detections}


def crop_quality(bundle: Path, video: Path, every: int, seconds: float, min_face: int) -> float:
    """Mean IoU of the crop boxes with detection every ``every`` frames vs every frame."""
    import ferbench
    from ferbench.prepare.faces import FaceDetector
    from ferbench.prepare.tracker import box_iou
    from ferbench.predict.face_track import ChunkedFaceTracker
    from ferbench.predict.media import decode_chunks

    pre = ferbench.load(bundle, device="cpu").info.preprocessing
    detector = FaceDetector(min_face=min_face or pre.min_face, detect_side=pre.detect_side)
    boxes = {}
    for k in (every, 1):
        tracker = ChunkedFaceTracker(detector, face_size=pre.face_size, margin=pre.margin, smooth_window=pre.smooth,
                                     every=k, refine_iou=0.5, max_gap=12)
        _, chunks = decode_chunks(video, 64)
        got, left = [], int(seconds * FPS)
        for chunk in chunks:
            tracker.process(chunk[:left])
            got.append(tracker.last_boxes)
            left -= len(chunk)
            if left <= 0:
                break
        boxes[k] = np.concatenate(got)
    return float(np.mean([box_iou(a, b[None])[0] for a, b in zip(boxes[every], boxes[1])]))


def peak_rss_mb(bundle: Path, video: Path, every: int, threads: int, min_face: int) -> tuple[float, dict]:
    """Peak RSS (MiB) of a fresh process that predicts ``video``."""
    code = (f"import json, resource, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from predict_speed import predict_once; "
            f"r = predict_once({str(bundle)!r}, {str(video)!r}, {every}, {threads}, {min_face}); "
            f"r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; print(json.dumps(r))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["peak_rss_mb"], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of the speed video")
    parser.add_argument("--long-minutes", type=float, default=10, help="length of the memory video (0 skips it)")
    parser.add_argument("--detect-every", default="1,5,10", help="comma-separated k values to time")
    parser.add_argument("--quality-seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=1, help="PredictOptions.threads: torch threads (default 1)")
    parser.add_argument("--min-face", type=int, default=40, help="PredictOptions.min_face (0: the bundle's, 20)")
    parser.add_argument("--bundle", help="a bundle to use instead of training a small one")
    parser.add_argument("--work", help="folder for the videos and the bundle (default: a temporary one)")
    args = parser.parse_args()
    ks = [int(k) for k in args.detect_every.split(",")]
    with tempfile.TemporaryDirectory(prefix="ferbench-predict-speed-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        bundle = Path(args.bundle) if args.bundle else make_bundle(work)
        video = work / f"face-{int(args.seconds)}s.mp4"
        t0 = time.perf_counter()
        n = write_face_video(video, args.seconds)
        print(f"test video: {video.name}, {WIDTH}x{HEIGHT} {FPS} fps, {n} frames ({n / FPS:.0f} s), "
              f"written in {time.perf_counter() - t0:.0f} s; torch threads {args.threads}, cpu count {os.cpu_count()}")
        for k in ks:
            r = predict_once(bundle, video, k, args.threads, args.min_face)
            print(f"detect every {k:2d} (min_face {args.min_face}): {r['wall_s']:6.1f} s wall for {r['video_s']:.0f} s "
                  f"of video = {r['video_s'] / r['wall_s']:.2f}x real time ({r['frames'] / r['wall_s']:.1f} frames/s); "
                  f"{r['cpu_s']:.1f} CPU s = {r['video_s'] / r['cpu_s']:.2f}x real time per core; "
                  f"MTCNN on {r['detections']} frames; {r['face_frames']}/{r['frames']} face frames; {r['status']}")
        for k in ks:
            if k > 1:
                print(f"crop boxes, detect every {k} vs every frame, first {args.quality_seconds:.0f} s: mean IoU "
                      f"{crop_quality(bundle, video, k, args.quality_seconds, args.min_face):.3f}")
        if args.long_minutes > 0:
            k = max(ks)
            long_video = work / f"face-{args.long_minutes:g}min.mp4"
            m = write_face_video(long_video, args.long_minutes * 60, seed=1)
            short_mb, _ = peak_rss_mb(bundle, video, k, args.threads, args.min_face)
            long_mb, r = peak_rss_mb(bundle, long_video, k, args.threads, args.min_face)
            print(f"peak RSS (detect every {k}): {short_mb:.0f} MiB for {n / FPS:.0f} s, {long_mb:.0f} MiB for "
                  f"{m / FPS / 60:.0f} min ({m} frames, {r['video_s'] / r['wall_s']:.2f}x real time)")


if __name__ == "__main__":
    main()
