"""IFERCV end-to-end test speed, .mp4 -> prediction (videos/s, CPU, one thread):
residual + ifercv-cnn + lstm versus rgb + resnet18 + lstm on the same videos.

Usage: python benchmarks/ifercv_end_to_end.py [--preset synthetic] [--videos 24] [--frames 8] [--size 64]

Untrained models (speed does not depend on the weights). Each pipeline
decodes the file, builds its input (``load`` + evaluation ``sample``), and
runs the model in eval mode, one video at a time. Timed with the process's
CPU time (one thread), so other load on the machine does not skew it. The ifercv pipeline only
needs residuals at test time (no I-frame encoder, critic or decoder).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from ferbench.builtin.aggregator_lstm import LSTMOptions, build_lstm  # noqa: E402
from ferbench.builtin.backbone_resnet18 import ResNet18Options, build_resnet18  # noqa: E402
from ferbench.builtin.input_rgb import RGBOptions, build_rgb  # noqa: E402
from ferbench.datasets.synthetic import generate, preset_options  # noqa: E402
from ferbench.engine.assemble import FERModel  # noqa: E402
from ferbench_ifercv.backbone import IFERCVCNNOptions, build_ifercv_cnn  # noqa: E402
from ferbench_ifercv.inputs import CompressedOptions, CompressedInput  # noqa: E402


def videos_per_s(rep, model, samples, repeats):
    gen = torch.Generator().manual_seed(0)
    best = float("inf")
    with torch.no_grad():
        for _ in range(repeats):
            t0 = time.process_time()
            for s in samples:
                x = rep.sample(rep.load(s), train=False, generator=gen)["x"]
                model(x[None]).logits.argmax(1)
            best = min(best, time.process_time() - t0)
    return len(samples) / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="synthetic")
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache-dir", default=os.path.expanduser(os.environ.get("FERBENCH_CACHE", "~/.cache/ferbench")))
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = generate(preset_options(a.preset), a.preset, a.cache_dir)
    samples = m.samples[: a.videos]
    k = m.num_classes
    rgb = build_rgb(RGBOptions(frames=a.frames, size=a.size))
    res = CompressedInput("residual", CompressedOptions(frames=a.frames, size=a.size))

    class ResidualOnly(CompressedInput):  # test time: residuals only, no identity/apex side tensors
        def load(self, sample):
            from ferbench.data.compressed import extract
            from ferbench_ifercv.inputs import _resize

            v = extract(sample.path, want_mv=False, want_residual=True, want_iframes=False)
            r = _resize(torch.from_numpy(v.residual).permute(0, 3, 1, 2) / 255.0, self.options.size)
            return {"residual": r, "gop": torch.zeros(r.shape[0], dtype=torch.long), "iframes": torch.zeros(1, 3, a.size, a.size, dtype=torch.uint8),
                    "apex": torch.zeros(3, a.size, a.size, dtype=torch.uint8)}

    res_test = ResidualOnly("residual", CompressedOptions(frames=a.frames, size=a.size, hflip=False))
    torch.manual_seed(0)
    base = FERModel(build_resnet18(ResNet18Options(), rgb.signature), build_lstm(LSTMOptions(), 512, k)).eval()
    ours = FERModel(build_ifercv_cnn(IFERCVCNNOptions(), res.signature), build_lstm(LSTMOptions(hidden=512), 512, k)).eval()
    r_base = videos_per_s(rgb, base, samples, a.repeats)
    r_ours = videos_per_s(res_test, ours, samples, a.repeats)
    print(f"{len(samples)} videos of {a.preset}, T={a.frames}, {a.size}x{a.size}, CPU one thread")
    print("| pipeline | videos/s |\n|---|---|")
    print(f"| rgb + resnet18 + lstm(256) | {r_base:.1f} |")
    print(f"| residual + ifercv-cnn + lstm(512) | {r_ours:.1f} |")
    print(f"speed-up: {r_ours / r_base:.2f}x")


if __name__ == "__main__":
    main()
