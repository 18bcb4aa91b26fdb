"""EIAN's weakly supervised clip localisation on controlled features (seconds on CPU).

The set-up is ``ferbench_ceflnet.feature_localisation`` (one informative clip
of 7 per video, Eq. 11 loss from video labels only, 200 Adam steps, scored on
1000 new videos): classification accuracy (chance 33.3 %) and how often P_e
(Eq. 6) is the informative clip (chance 14.3 %), with and without SAL and LRL.
This isolates the aggregator from backbone learning. See
``ferbench claims ceflnet`` for the end-to-end measurements on SynthFER videos.

    python examples/studies/ceflnet_feature_localisation.py [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse

import torch

from ferbench_ceflnet.aggregator import EIANOptions
from ferbench_ceflnet.feature_localisation import feature_localisation

VARIANTS = {
    "CEFLNet (SAL+LRL+EIAN)": EIANOptions(),
    "EIAN only (sal=false lrl=false)": EIANOptions(sal=False, lrl=False),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2")
    args = p.parse_args()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| aggregator | accuracy % (chance 33.3) | P_e = informative clip % (chance 14.3) |\n|---|---|---|")
    for name, opts in VARIANTS.items():
        res = torch.tensor([feature_localisation(opts, s) for s in seeds])
        m, s = res.mean(0), res.std(0) if len(seeds) > 1 else torch.zeros(2)
        print(f"| {name} | {m[0]:.1f} ± {s[0]:.1f} | {m[1]:.1f} ± {s[1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
