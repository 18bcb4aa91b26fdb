"""EIAN's weakly supervised clip localisation on controlled features (seconds on CPU).

Each video has 7 clips x 2 frames of 16-d Gaussian noise features; one random
clip carries a class prototype (norm 2) in its frames. The ``eian`` aggregator
is trained with the Eq. 11 loss from video labels only (200 Adam steps, batch
32, lr 1e-2). It is then scored on 1000 new videos: classification accuracy
(chance 33.3 %) and how often P_e (Eq. 6) is the informative clip (chance
14.3 %). This isolates the aggregator from backbone learning. See
``ferbench claims ceflnet`` for the end-to-end measurements on SynthFER videos.

    python examples/studies/ceflnet_feature_localisation.py [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse

import torch

from ferbench_ceflnet.aggregator import EIANOptions, build_eian

VARIANTS = {
    "CEFLNet (SAL+LRL+EIAN)": EIANOptions(),
    "EIAN only (sal=false lrl=false)": EIANOptions(sal=False, lrl=False),
}


def run(opts: EIANOptions, seed: int, steps: int = 200) -> tuple[float, float]:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    mu = 2.0 * torch.nn.functional.normalize(torch.randn(3, 16, generator=g), dim=1)

    def videos(b: int):
        y, j = torch.randint(0, 3, (b,), generator=g), torch.randint(0, 7, (b,), generator=g)
        f = torch.randn(b, 7, 2, 16, generator=g)
        f[torch.arange(b), j] += mu[y].unsqueeze(1)
        return f.reshape(b, 14, 16), y, j

    agg = build_eian(opts, 16, 3)
    opt = torch.optim.Adam(agg.parameters(), 1e-2)
    for _ in range(steps):
        f, y, _ = videos(32)
        loss = agg.classification_loss(agg(f), y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    f, y, j = videos(1000)
    with torch.no_grad():
        out = agg.eval()(f)
    return 100 * (out.logits.argmax(1) == y).float().mean().item(), 100 * (out.extras["emotion_clip"] == j).float().mean().item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2")
    args = p.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| aggregator | accuracy % (chance 33.3) | P_e = informative clip % (chance 14.3) |\n|---|---|---|")
    for name, opts in VARIANTS.items():
        res = torch.tensor([run(opts, s) for s in seeds])
        m, s = res.mean(0), res.std(0) if len(seeds) > 1 else torch.zeros(2)
        print(f"| {name} | {m[0]:.1f} ± {s[0]:.1f} | {m[1]:.1f} ± {s[1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
