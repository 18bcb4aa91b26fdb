import torch

from ferbench.losses import cross_entropy, focal_loss


def test_focal_with_gamma_zero_is_cross_entropy_and_downweights_easy_samples():
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.2, 0.1, 0.0]])
    y = torch.tensor([0, 0])
    ce = cross_entropy(logits, y)
    assert torch.allclose(focal_loss(logits, y, gamma=0.0), ce)
    fl = focal_loss(logits, y, gamma=2.0)
    p = logits.softmax(1)[:, 0]
    assert torch.allclose(fl, (1 - p) ** 2 * ce)
    assert fl[0] / ce[0] < fl[1] / ce[1]  # the easy sample loses more weight
    assert torch.allclose(focal_loss(logits, y, gamma=2.0, alpha=0.25), 0.25 * fl)
