"""CEFLNet cost: parameters and MACs per video, next to the paper's Tables 8 and 9.

Builds ``--input rgb --input-opt sampling=clips size=224 clip_frames=F`` +
``--backbone resnet18`` + ``--aggregator eian`` through the engine's own
assembly (7 clips, F = 2, 5, 10, 15 frames per clip) and counts:

* parameters of what runs at test time (backbone + aggregator), and the same
  plus torchvision ResNet-18's 1000-way ImageNet ``fc`` head (512*1000+1000),
  which the paper's 12.83 M most likely includes (ferbench's trunk drops it);
* MACs of one video with ``torch.utils.flop_counter`` (convolutions and matrix
  products; the paper used ptflops, which also counts BN/ReLU/pooling).

Usage: ``python benchmarks/ceflnet_cost.py [--frames 2,5,10,15] [--size 224]``.
Prints a Markdown table. CPU, a few seconds per configuration.
"""

from __future__ import annotations

import argparse

import torch

from ferbench.data.manifest import Manifest, ProtocolSpec, Sample
from ferbench.engine.assemble import assemble, build_input, dummy_input, resolve
from ferbench.engine.config import make_config
from ferbench.metrics import count_parameters, macs_of
from ferbench.plugins import Registry

PAPER_MACS_G = {2: 25.52, 5: 63.80, 10: 127.59, 15: 191.39}  # Table 9 (7 clips, BU-3DFE)
PAPER_ACC = {2: 85.0, 5: 85.33, 10: 84.17, 15: 84.17}  # Table 9
PAPER_PARAMS_M = 12.83  # Table 8 (7 x 5 frames)
IMAGENET_FC = 512 * 1000 + 1000


def measure(registry: Registry, frames_per_clip: int, size: int, clips: int = 7, num_classes: int = 6) -> dict:
    config = make_config(
        {"input": "rgb", "backbone": "resnet18", "aggregator": "eian", "dataset": "synthetic"},
        {"input": {"sampling": "clips", "size": size, "clips": clips, "clip_frames": frames_per_clip,
                   "clip_window": (clips - 1) * 10 + 15}},
    )
    resolved = resolve(config, registry)
    signature = build_input(resolved).signature
    manifest = Manifest("cost", [f"c{i}" for i in range(num_classes)], [Sample(id="x", path="", label=0, subject="s")], ProtocolSpec("kfold", folds=2))
    model = assemble(resolved, signature, manifest).model.eval()
    x, side = dummy_input(signature, batch=1)
    macs = macs_of(lambda: model(x, side))
    params = count_parameters(model)
    agg = count_parameters(model.aggregator)
    return {"frames": frames_per_clip, "T": signature.frames, "params": params, "aggregator": agg, "macs": macs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", default="2,5,10,15", help="frames per clip to measure")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=6, help="K (BU-3DFE: 6)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    registry = Registry()
    print("| frames/clip | T | params (M) | +ImageNet fc (M) | eian params (M) | MACs/video (G) | paper MACs (G) | paper params (M) | paper acc (%) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for f in (int(v) for v in args.frames.split(",")):
        m = measure(registry, f, args.size, num_classes=args.classes)
        print(
            f"| {f} | {m['T']} | {m['params'] / 1e6:.2f} | {(m['params'] + IMAGENET_FC) / 1e6:.2f} | "
            f"{m['aggregator'] / 1e6:.3f} | {m['macs'] / 1e9:.2f} | {PAPER_MACS_G.get(f, float('nan')):.2f} | "
            f"{PAPER_PARAMS_M if f == 5 else float('nan'):.2f} | {PAPER_ACC.get(f, float('nan')):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
