"""IFERCV end-to-end test speed, .mp4 -> prediction (videos/s, CPU, one thread):
residual + ifercv-cnn + lstm versus rgb + resnet18 + lstm on the same videos.

Usage: python benchmarks/ifercv_end_to_end.py [--preset synthetic] [--videos 24] [--repeats 3]
       [--rgb-frames T] [--rgb-size S] [--res-frames T] [--res-size S] [--res-lstm-hidden 512]

Defaults are what a user gets: the default ``synthetic`` preset and each
input's default frames/size (``rgb``: T=4 at 96 px, core ``lstm`` hidden 256;
``residual``: T=8 at 64 px, ``lstm`` hidden 512 as in the paper and
``ifercv.toml``; ``--res-lstm-hidden 256`` is what the bare CLI command gets). Untrained
models (speed does not depend on the weights), eval mode, one video at a time.

Two paths per pipeline, each checked to give the same ``x`` as
``sample(load(video), train=False)``:

* engine path: the input's ``load`` (what the engine caches: every frame, and for
  ``residual`` also the I-frames and apex) then ``sample``;
* test path, the best honest one for each: ``rgb`` decodes every frame but converts
  and resizes only the T sampled frames (one swscale context); ``residual`` uses
  ``CompressedInput.test_x``, which decodes every frame but converts and warps only
  the T sampled P-frames and their references.

The speed-up is read between the two test paths (both core ``lstm`` aggregators run
PyTorch's native kernel at batch 1 on CPU, see ``ferbench.builtin.aggregator_lstm``).
Timed with the process's CPU
time (one thread: ``thread_count=1``, ``torch.set_num_threads(1)``), best of
``--repeats`` rounds with the pipelines alternating.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from av.video.reformatter import VideoReformatter  # noqa: E402
from PIL import Image  # noqa: E402

from ferbench.builtin.aggregator_lstm import LSTMOptions, build_lstm  # noqa: E402
from ferbench.builtin.backbone_resnet18 import ResNet18Options, build_resnet18  # noqa: E402
from ferbench.builtin.input_rgb import RGBOptions, build_rgb  # noqa: E402
from ferbench.data.frame_sampling import segment_indices  # noqa: E402
from ferbench.datasets.synthetic import generate, preset_options  # noqa: E402
from ferbench.engine.assemble import FERModel  # noqa: E402
from ferbench_ifercv.backbone import IFERCVCNNOptions, build_ifercv_cnn  # noqa: E402
from ferbench_ifercv.inputs import CompressedInput, CompressedOptions  # noqa: E402

GEN = torch.Generator().manual_seed(0)


def rgb_test_x(rep, sample) -> torch.Tensor:
    """``rgb``'s evaluation x from the file: decode all frames, convert and resize only the T sampled ones."""
    o = rep.options
    with av.open(str(sample.path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        frames = list(container.decode(stream))
    idx = segment_indices(len(frames), o.frames, train=False, generator=GEN).tolist()
    reformatter = VideoReformatter()
    picked = []
    for i in idx:
        rgb = reformatter.reformat(frames[i], format="rgb24").to_ndarray()
        if rgb.shape[:2] != (o.size, o.size):  # as ferbench.data.video.read_video resizes
            rgb = np.asarray(Image.fromarray(rgb).resize((o.size, o.size), Image.BILINEAR))
        picked.append(rgb)
    x = torch.from_numpy(np.stack(picked)).permute(0, 3, 1, 2).float().div_(255.0)
    return rep.normalise(x)


def engine_x(rep, sample) -> torch.Tensor:
    return rep.sample(rep.load(sample), train=False, generator=GEN)["x"]


def timed(pipelines: dict, samples, repeats: int) -> dict:
    """name -> (videos/s end to end, ms of input per video), best of ``repeats`` rounds, pipelines alternating."""
    best = {k: (float("inf"), float("inf")) for k in pipelines}
    with torch.no_grad():
        for _ in range(repeats):
            for name, (make_x, model) in pipelines.items():
                t_in = 0.0
                t0 = time.process_time()
                for s in samples:
                    t1 = time.process_time()
                    x = make_x(s)
                    t_in += time.process_time() - t1
                    model(x[None]).logits.argmax(1)
                total = time.process_time() - t0
                if total < best[name][0]:
                    best[name] = (total, t_in)
    return {k: (len(samples) / v[0], 1000 * v[1] / len(samples)) for k, v in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="synthetic")
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rgb-frames", type=int, default=RGBOptions().frames)
    ap.add_argument("--rgb-size", type=int, default=RGBOptions().size)
    ap.add_argument("--res-frames", type=int, default=CompressedOptions().frames)
    ap.add_argument("--res-size", type=int, default=CompressedOptions().size)
    ap.add_argument("--res-lstm-hidden", type=int, default=512, help="ifercv's LSTM size (paper 512; core default 256)")
    ap.add_argument("--cache-dir", default=os.path.expanduser(os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")))
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = generate(preset_options(a.preset), a.preset, a.cache_dir)
    samples = m.samples[: a.videos]
    k = m.num_classes
    rgb = build_rgb(RGBOptions(frames=a.rgb_frames, size=a.rgb_size))
    res = CompressedInput("residual", CompressedOptions(frames=a.res_frames, size=a.res_size))
    for s in samples[:3]:  # the test paths give exactly the engine's evaluation input
        assert torch.equal(rgb_test_x(rgb, s), engine_x(rgb, s)) and torch.equal(res.test_x(s), engine_x(res, s))
    torch.manual_seed(0)
    base = FERModel(build_resnet18(ResNet18Options(), rgb.signature), build_lstm(LSTMOptions(), 512, k)).eval()
    ours = FERModel(build_ifercv_cnn(IFERCVCNNOptions(), res.signature), build_lstm(LSTMOptions(hidden=a.res_lstm_hidden), 512, k)).eval()
    pipelines = {
        "rgb + resnet18 + lstm, engine path": (lambda s: engine_x(rgb, s), base),
        "rgb + resnet18 + lstm, test path": (lambda s: rgb_test_x(rgb, s), base),
        "residual + ifercv-cnn + lstm, engine path": (lambda s: engine_x(res, s), ours),
        "residual + ifercv-cnn + lstm, test path": (res.test_x, ours),
    }
    r = timed(pipelines, samples, a.repeats)
    opts = m.info["options"]
    print(f"{len(samples)} videos of {a.preset} ({opts['size']}x{opts['size']}, {opts['frames']} frames); "
          f"rgb T={a.rgb_frames} at {a.rgb_size} px, lstm {LSTMOptions().hidden}; residual T={a.res_frames} at {a.res_size} px, "
          f"lstm {a.res_lstm_hidden}; CPU time, one thread, best of {a.repeats}")
    print("| pipeline | videos/s | input ms/video | model ms/video |\n|---|---|---|---|")
    for name, (vps, ms_in) in r.items():
        print(f"| {name} | {vps:.1f} | {ms_in:.1f} | {1000 / vps - ms_in:.1f} |")
    test = r["residual + ifercv-cnn + lstm, test path"][0] / r["rgb + resnet18 + lstm, test path"][0]
    engine = r["residual + ifercv-cnn + lstm, engine path"][0] / r["rgb + resnet18 + lstm, engine path"][0]
    print(f"speed-up, test paths: {test:.2f}x; engine paths: {engine:.2f}x")


if __name__ == "__main__":
    main()
