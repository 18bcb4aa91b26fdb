"""REL-GAN's batched augmentation gives exactly the per-image crops, rotations and flips."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ferbench_relgan.pairs import View, augment, random_views


def _one_by_one(x: torch.Tensor, size: int, views) -> torch.Tensor:
    m = size // 32
    big = F.interpolate(x.float(), size=(size + 2 * m, size + 2 * m), mode="bilinear", align_corners=False, antialias=True)
    offsets = {"center": (m, m), "tl": (0, 0), "tr": (0, 2 * m), "bl": (2 * m, 0), "br": (2 * m, 2 * m)}
    out = []
    for img, v in zip(big, views):
        top, left = offsets[v.crop]
        img = img[:, top : top + size, left : left + size]
        if v.angle:
            img = TF.rotate(img, v.angle, interpolation=InterpolationMode.BILINEAR)
        if v.flip:
            img = TF.horizontal_flip(img)
        out.append(img)
    return torch.stack(out)


def test_batched_augmentation_equals_the_per_image_one():
    x = torch.rand(24, 3, 40, 40).half()
    views = random_views(24, torch.Generator().manual_seed(3)) + [View()]
    x = torch.cat([x, x[:1]])
    assert torch.equal(augment(x, 32, views), _one_by_one(x, 32, views))
