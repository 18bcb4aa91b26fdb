"""The emotional intensity activation and head as the authors' code builds them (``eian`` with ``variant=code``).

Read from CVLab-Liuyuanyuan/CEFLNet at commit bbef8a1 (``models/Model.py``),
written here independently. Differences from the paper's Eqs. 4-9
(:mod:`.eian`):

* **One attention channel for all classes** (Model.py:64-91, 126, 200):
  ``Conv1d(D, 1, 1, bias=False)`` over the clip features, softmax over the
  clips: a [B, n], shared by every class (the paper: one channel per class).
* **Scale, then max over clips** (Model.py:127, 202-203): every clip feature
  is multiplied by its weight and the video representation is the max over
  clips of a_i R_i, [B, D] (the paper: a weighted sum per class, then a max
  over classes).
* **MLP head** (Model.py:129-132, 204): D -> 256 -> ReLU -> 128 -> ReLU ->
  Dropout(0.4) -> K (the paper: one FC q2). The code hard-codes K = 7.
* The attention convolution is initialised with Kaiming-normal, fan-out
  (Model.py:71, 82-83); the other layers keep PyTorch's defaults, as in the code.

Shapes: B videos, n clips, D clip-feature size, K classes.
"""

from __future__ import annotations

import torch
from torch import nn

#: hidden widths of the official classifier (Model.py:129-130)
HEAD_HIDDEN = (256, 128)


def code_head(dim: int, num_classes: int) -> nn.Sequential:
    """The code's classifier: Linear(D, 256), ReLU, Linear(256, 128), ReLU, Dropout(0.4), Linear(128, K)."""
    h1, h2 = HEAD_HIDDEN
    return nn.Sequential(nn.Linear(dim, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Dropout(0.4), nn.Linear(h2, num_classes))


class CodeClipAttention(nn.Module):
    """Clip features R [B, n, D] -> logits [B, K], the shared clip attention a [B, n] and the representation [B, D].

    ``clip_mask`` (bool [B, n], True = clip has real frames) keeps padded clips out of the softmax and the max.
    ``kernel`` is the attention convolution's kernel over the clips (the code: 1).
    """

    def __init__(self, dim: int, num_classes: int, *, kernel: int = 1) -> None:
        super().__init__()
        self.score = nn.Conv1d(dim, 1, kernel, padding=kernel // 2, bias=False)
        nn.init.kaiming_normal_(self.score.weight, mode="fan_out")
        self.classifier = code_head(dim, num_classes)

    def forward(self, clip_features: torch.Tensor, clip_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        raw = self.score(clip_features.transpose(1, 2)).squeeze(1)  # [B, n]
        if clip_mask is not None:
            clip_mask = clip_mask | ~clip_mask.any(1, keepdim=True)  # a fully padded video: plain softmax
            raw = raw.masked_fill(~clip_mask, float("-inf"))
        attention = raw.softmax(dim=1)  # a [B, n], one channel for all classes
        scaled = clip_features * attention.unsqueeze(-1)  # a_i R_i [B, n, D]
        if clip_mask is not None:
            scaled = scaled.masked_fill(~clip_mask.unsqueeze(-1), float("-inf"))
        representation = scaled.amax(dim=1)  # max over clips, [B, D]
        return {"attention": attention, "embedding": representation, "logits": self.classifier(representation)}
