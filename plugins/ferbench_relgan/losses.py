"""REL-GAN objectives (Eq. 1-4) as functions of logits, on tensors of any batch size N.

``D^e`` logits are [N, N_e + 1] (the last class is "fake"), ``D^i`` logits [N, N_i].
Every returned loss is a scalar (mean over the batch).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F


def discriminator_loss(
    e_real_s: torch.Tensor, y_s: torch.Tensor, i_real_t: torch.Tensor, y_t: torch.Tensor, e_fake: torch.Tensor
) -> dict[str, torch.Tensor]:
    """-L_D of Eq. 1 (D maximises L_D, i.e. minimises the returned ``total``).

    Args:
        e_real_s: D^e(x_s) [N, N_e + 1]; y_s: expression labels of x_s [N].
        i_real_t: D^i(x_t) [N, N_i]; y_t: identity labels of x_t [N].
        e_fake: D^e(G(x_s, x_t)) [N, N_e + 1], to be classified as class N_e ("fake").

    Returns:
        ``expression`` = -log D^e_{y_s}(x_s), ``identity`` = -log D^i_{y_t}(x_t),
        ``fake`` = -log D^e_{N_e+1}(G(x_s, x_t)) (batch means) and their sum ``total``.
    """
    fake_class = torch.full_like(y_s, e_fake.shape[1] - 1)
    parts = {
        "expression": F.cross_entropy(e_real_s, y_s),
        "identity": F.cross_entropy(i_real_t, y_t),
        "fake": F.cross_entropy(e_fake, fake_class),
    }
    parts["total"] = parts["expression"] + parts["identity"] + parts["fake"]
    return parts


@dataclasses.dataclass(frozen=True)
class Lambdas:
    """lambda_1..lambda_4 of Eq. 4 (paper 0.7, 20, 50, 30)."""

    adv: float = 0.7
    pixel: float = 20.0
    de: float = 50.0
    di: float = 30.0


def generator_loss(
    e_fake: torch.Tensor, i_fake: torch.Tensor, fake: torch.Tensor, x_tg: torch.Tensor,
    y_s: torch.Tensor, y_t: torch.Tensor, lambdas: Lambdas = Lambdas(),
) -> dict[str, torch.Tensor]:
    """L_total of Eq. 4 for G, with its unweighted terms.

    Args:
        e_fake: D^e(x_bar) [N, N_e + 1]; i_fake: D^i(x_bar) [N, N_i]; x_bar = G(x_s, x_t).
        fake: x_bar [N, C, S, S]; x_tg: ground truth [N, C, S, S] (identity of x_t, expression of x_s).
        y_s: expression labels of x_s [N]; y_t: identity labels of x_t [N].

    Returns:
        ``adv`` = -log(1 - D^e_{fake}(x_bar)) (x_bar judged real, the non-saturating GAN term),
        ``pixel`` = L1(x_bar, x_tg) (Eq. 3, mean absolute error),
        ``de`` = -log D^e_{y_s}(x_bar) and ``di`` = -log D^i_{y_t}(x_bar) (Eq. 2),
        ``total`` = lambda_1 adv + lambda_2 pixel + lambda_3 de + lambda_4 di (Eq. 4).
    """
    logp = F.log_softmax(e_fake, dim=1)
    parts = {
        "adv": -torch.logsumexp(logp[:, :-1], dim=1).mean(),
        "pixel": F.l1_loss(fake, x_tg),
        "de": F.nll_loss(logp, y_s),
        "di": F.cross_entropy(i_fake, y_t),
    }
    parts["total"] = lambdas.adv * parts["adv"] + lambdas.pixel * parts["pixel"] + lambdas.de * parts["de"] + lambdas.di * parts["di"]
    return parts
