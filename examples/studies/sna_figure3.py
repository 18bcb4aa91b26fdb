"""Figure 3 on SynthFER: originals, reconstructions H_d(H_e(I)), and several semantic neighbours
H_d(H_e(I) + N) (Eq. 9), one column per class, from an autoencoder the sna stage trained and cached.

    python examples/studies/sna_figure3.py [--ae /tmp/sna_cache-v2/sna-ae/sna-ae-<key>.pt] [--sigma 0.1] [--neighbours 3]

Writes plugins/ferbench_sna/results/figure3_neighbours.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ferbench.options import build_options  # noqa: E402
from ferbench.plugins import Registry  # noqa: E402
from ferbench_sna.autoencoder import AsymmetricAutoencoder  # noqa: E402
from ferbench_sna.input_gray112 import Gray112Input, Gray112Options  # noqa: E402
from sna_common import CACHE, RESULTS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ae", default="")
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--neighbours", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    path = Path(a.ae) if a.ae else max((CACHE / "sna-ae").glob("sna-ae-*.pt"), key=lambda p: p.stat().st_mtime)
    ae = AsymmetricAutoencoder(1, a.size, a.size)
    ae.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    ae.eval()
    spec = Registry().get("dataset", "synthetic")
    manifest = spec.factory(build_options(spec.options, {"label_noise": "0.3"}), None, CACHE).manifest()
    rep = Gray112Input(Gray112Options(size=a.size))
    picks = [next(s for s in manifest.samples if s.eval_label == k and not s.meta.get("flipped")) for k in range(manifest.num_classes)]
    x = torch.stack([rep.sample(rep.load(s), train=False, generator=torch.Generator())["x"][0] for s in picks])
    torch.manual_seed(a.seed)
    with torch.no_grad():
        code = ae.encode(x)
        rows = [("Ori", x), ("Asym-AE", ae.decode(code))]
        rows += [(f"NS {i + 1}", ae.decode(code + a.sigma * torch.randn_like(code))) for i in range(a.neighbours)]
    fig, axes = plt.subplots(len(rows), len(picks), figsize=(1.6 * len(picks), 1.6 * len(rows)))
    for r, (name, imgs) in enumerate(rows):
        for c in range(len(picks)):
            ax = axes[r, c]
            ax.imshow(imgs[c, 0].clamp(-1, 1).numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name)
            if r == 0:
                ax.set_title(manifest.classes[picks[c].eval_label], fontsize=9)
    fig.suptitle(f"SynthFER: originals, reconstructions, neighbours (sigma={a.sigma})", fontsize=10)
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "figure3_neighbours.png"
    fig.savefig(out, dpi=110)
    print(out, "from", path)


if __name__ == "__main__":
    main()
