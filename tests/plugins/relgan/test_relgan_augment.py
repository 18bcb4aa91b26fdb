"""REL-GAN's batched augmentation gives exactly the per-image crops, rotations and flips."""

from __future__ import annotations

import torch

from ferbench_relgan.pairs import View, augment, augment_per_image, random_views


def test_batched_augmentation_equals_the_per_image_one():
    x = torch.rand(24, 3, 40, 40).half()
    views = random_views(24, torch.Generator().manual_seed(3)) + [View()]
    x = torch.cat([x, x[:1]])
    assert torch.equal(augment(x, 32, views), augment_per_image(x, 32, views))
