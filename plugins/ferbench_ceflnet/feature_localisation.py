"""EIAN's weakly supervised clip localisation on controlled features, isolated from backbone learning.

Each video has 7 clips x 2 frames of 16-d Gaussian noise features; one random clip carries a
class prototype (norm 2) in its frames. The ``eian`` aggregator is trained with the Eq. 11 loss
from video labels only (Adam, batch 32, lr 1e-2), then scored on new videos: classification
accuracy (chance 33.3 %) and how often P_e (Eq. 6) is the informative clip (chance 14.3 %).
Used by ``examples/studies/ceflnet_feature_localisation.py`` and the plugin's tests.
"""

from __future__ import annotations

import torch

from .aggregator import EIANOptions, build_eian

CLIPS, CLIP_FRAMES, DIM, CLASSES = 7, 2, 16, 3


def feature_localisation(options: EIANOptions, seed: int, *, steps: int = 200,
                         test_videos: int = 1000) -> tuple[float, float]:
    """(accuracy %, P_e-finds-the-informative-clip %) of ``eian`` trained for ``steps`` on the
    synthetic features above and scored on ``test_videos`` new ones; deterministic in ``seed``."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    mu = 2.0 * torch.nn.functional.normalize(torch.randn(CLASSES, DIM, generator=g), dim=1)

    def videos(b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        y, j = torch.randint(0, CLASSES, (b,), generator=g), torch.randint(0, CLIPS, (b,), generator=g)
        f = torch.randn(b, CLIPS, CLIP_FRAMES, DIM, generator=g)
        f[torch.arange(b), j] += mu[y].unsqueeze(1)
        return f.reshape(b, CLIPS * CLIP_FRAMES, DIM), y, j

    agg = build_eian(options, DIM, CLASSES)
    opt = torch.optim.Adam(agg.parameters(), 1e-2)
    for _ in range(steps):
        f, y, _ = videos(32)
        loss = agg.classification_loss(agg(f), y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    f, y, j = videos(test_videos)
    with torch.no_grad():
        out = agg.eval()(f)
    accuracy = 100 * (out.logits.argmax(1) == y).float().mean().item()
    hit = 100 * (out.extras["emotion_clip"] == j).float().mean().item()
    return accuracy, hit
