"""Emotional intensity activation network (EIAN, Sec. 3.3) and the Eq. 11 loss.

Shapes: B videos, n clips, D clip-feature size, K classes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class EmotionalIntensityActivation(nn.Module):
    """Eqs. 4-9: clip features R [B, n, D] -> logits [B, K] and the activation quantities.

    * V^f = H(R_1..R_n): the clip features stacked in temporal order, [B, n, D] (Eq. 4).
    * A = softmax over clips of W^T V^f, with W a 1-D convolution over the clip
      axis (D -> K channels, kernel ``kernel``, 'same' zero padding; kernel 1 =
      the D x K parameter matrix W of the paper applied to every clip): A [B, n, K],
      A[b, :, c] sums to one for every class c (Eq. 5).
    * M_c = A_{y^c} · V^f = Σ_i A[b, i, c] V^f_i: M [B, K, D], the emotional
      activation map, one clip-weighted video feature per class (Eq. 7).
    * V̂^f = maxpool(M) over the classes: [B, D] (Eq. 8), the emotion-rich representation.
    * logits = V̂^f q2 (FC D -> K); the softmax of Eq. 9-10 is applied by the loss / at scoring.
    * P_e = argmax_i A[b, i, c] for a class c (Eq. 6), see :func:`emotion_rich_clip`.

    ``clip_mask`` (bool [B, n], True = clip has real frames) keeps padded clips out of the softmax.
    """

    def __init__(self, dim: int, num_classes: int, *, kernel: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"eian: score_kernel must be odd and >= 1 (got {kernel})")
        self.scores = nn.Conv1d(dim, num_classes, kernel, padding=kernel // 2)  # W^T of Eq. 5
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(dim, num_classes)  # q2 of Eq. 9

    def forward(self, clip_features: torch.Tensor, clip_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        video = clip_features  # V^f [B, n, D] (Eq. 4: H = stacking in time)
        raw = self.scores(video.transpose(1, 2)).transpose(1, 2)  # W^T V^f [B, n, K]
        if clip_mask is not None:
            clip_mask = clip_mask | ~clip_mask.any(1, keepdim=True)  # a fully padded video: plain softmax
            raw = raw.masked_fill(~clip_mask.unsqueeze(-1), float("-inf"))
        attention = raw.softmax(dim=1)  # A, Eq. 5: softmax over the clips, per class
        activation = torch.einsum("bnk,bnd->bkd", attention, video)  # M_c, Eq. 7
        emotion_rich = activation.max(dim=1).values  # V̂^f, Eq. 8
        logits = self.classifier(self.dropout(emotion_rich))  # Eq. 9 before the softmax
        return {"attention": attention, "activation": activation, "embedding": emotion_rich, "logits": logits}


def emotion_rich_clip(attention: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Eq. 6: P_e = argmax over clips of A_{y^c} for class ``classes[b]``.

    Args:
        attention: A [B, n, K].
        classes: int64 [B], the class c per video (the predicted one at test time).

    Returns:
        int64 [B], the index of the emotion-rich clip.
    """
    picked = attention.gather(2, classes.view(-1, 1, 1).expand(-1, attention.shape[1], 1)).squeeze(2)  # [B, n]
    return picked.argmax(dim=1)


def eq11_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 11 per video: -Σ_c [Y_c log p_c + (1 - Y_c) log(1 - p_c)], p = softmax(logits).

    Args:
        logits: [B, K].
        target: int64 [B] class indices (Y is their one-hot).

    Returns:
        [B] loss in nats.
    """
    log_p = F.log_softmax(logits.float(), dim=1)
    # log(1 - p) = log(-expm1(log p)), stable for p close to 1
    log_not_p = torch.log(-torch.expm1(log_p.clamp(max=-1e-7)))
    y = F.one_hot(target, logits.shape[1]).to(log_p.dtype)
    return -(y * log_p + (1 - y) * log_not_p).sum(1)
