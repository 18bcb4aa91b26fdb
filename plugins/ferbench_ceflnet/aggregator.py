"""Aggregator ``eian``: CEFLNet's CFE (SAL + LRL) and EIAN over clip-sampled frame features.

Input: per-frame features [B, T, D] with T = clips * frames_per_clip, clip-major
(what ``--input rgb --input-opt sampling=clips`` yields: clip 0's frames first).
``variant=paper`` builds Eqs. 1-9 of the paper (:mod:`.cfe`, :mod:`.eian`);
``variant=code`` builds the authors' public code (:mod:`.cfe_code`, :mod:`.eian_code`).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from ferbench.components import Aggregator, AggregatorOutput, FoldReport
from ferbench.errors import IncompatibleCombinationError, OptionError

from .cfe import ClipFeatureEncoder
from .cfe_code import CodeClipFeatureEncoder
from .eian import EmotionalIntensityActivation, emotion_rich_clip, eq11_loss
from .eian_code import CodeClipAttention, code_head
from .localisation import apex_clip_metrics


@dataclasses.dataclass(frozen=True)
class EIANOptions:
    """Options of ``eian`` (defaults: the paper's CEFLNet).

    Attributes:
        clips: n, clips per video (Table 1: 7). When T is not a multiple of n (and
            frames_per_clip is 0), frames are repeated in temporal order to fill
            n clips of ceil(T / n) frames; ``--input-opt sampling=clips`` gives the
            paper's clip sampling instead.
        frames_per_clip: K frames per clip; 0 = from T (Table 1: 5).
        sal: self-attention learning inside each clip (Eq. 1); off = f' = f.
        lrl: local-global relation learning (Eqs. 2-3); off = mean of f' per clip.
        eian: emotional intensity activation (Eqs. 4-9); off = mean of clip features + FC (Table 6).
        score_kernel: kernel of the 1-D convolution W of Eq. 5 over the clips (odd; 1 = the paper's matrix W).
        dropout: dropout on the video representation before the FC q2 (variant=paper only).
        loss: "eq11" (Eq. 11: per-class binary cross-entropy of softmax probabilities) or "ce" (the run's loss;
            the authors' code trains with cross-entropy).
        variant: "paper" (the paper's Eqs. 1-9) or "code" (the authors' code, CVLab-Liuyuanyuan/CEFLNet:
            4-head SAL with residual and LayerNorm, LRL on [raw frame : max-pooled clip], one clip
            attention channel for all classes, max over scaled clips, MLP head 256-128 with dropouts
            0.1/0.5/0.4; see README "Fidelity").
    """

    clips: int = 7
    frames_per_clip: int = 0
    sal: bool = True
    lrl: bool = True
    eian: bool = True
    score_kernel: int = 1
    dropout: float = 0.0
    loss: Literal["eq11", "ce"] = "eq11"
    variant: Literal["paper", "code"] = "paper"

    def __post_init__(self) -> None:
        if self.clips < 1 or self.frames_per_clip < 0:
            raise OptionError(f"aggregator 'eian': need clips >= 1 and frames_per_clip >= 0 (got {self.clips}, {self.frames_per_clip})")
        if self.score_kernel < 1 or self.score_kernel % 2 == 0:
            raise OptionError(f"aggregator 'eian': score_kernel must be odd and >= 1 (got {self.score_kernel})")
        if self.variant == "code" and self.dropout:
            raise OptionError(
                f"aggregator 'eian': dropout={self.dropout} is the paper variant's; variant=code has the official "
                "code's fixed dropouts (0.1 in SAL, 0.5 before the LRL weights, 0.4 in the head): drop the dropout option"
            )


class CEFLNetAggregator(Aggregator):
    """[B, T, D] (+ mask [B, T]) -> embedding [B, D], logits [B, K], extras.

    Extras (evaluation outputs):
        clip_scores: A [B, n, K], per class a softmax over the clips (Eq. 5); only with eian.
            variant=code has one attention channel for all classes: its [B, n] repeated K times.
        attention: [B, n], A of the predicted class (the emotional activation over clips).
        emotion_clip: P_e [B], the emotion-rich clip of the predicted class (Eq. 6).
        frame_weights: LRL weights w_k [B, n, K] (ones when lrl is off).
    """

    def __init__(self, options: EIANOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.options = options
        self.embedding_dim = in_dim
        code = options.variant == "code"
        encoder = CodeClipFeatureEncoder if code else ClipFeatureEncoder
        self.encoder = encoder(in_dim, sal=options.sal, lrl=options.lrl)
        if options.eian and code:
            self.eian = CodeClipAttention(in_dim, num_classes, kernel=options.score_kernel)
        elif options.eian:
            self.eian = EmotionalIntensityActivation(in_dim, num_classes, kernel=options.score_kernel, dropout=options.dropout)
        else:
            self.eian = None
            self.dropout = nn.Dropout(options.dropout)
            self.classifier = code_head(in_dim, num_classes) if code else nn.Linear(in_dim, num_classes)

    def _clip_shape(self, t: int) -> tuple[int, int]:
        n, k = self.options.clips, self.options.frames_per_clip
        if k == 0 and t % n:
            return n, -(-t // n)  # filled by _fill_clips
        if t % n or (k and t != n * k):
            want = f"{n} x {k} = {n * k}" if k else f"a multiple of clips={n}"
            raise IncompatibleCombinationError(
                f"aggregator 'eian' needs T = clips x frames per clip frames, got T={t} (expected {want}); "
                f"use --input-opt sampling=clips --input-opt clips={n} (T = clips * clip_frames) "
                f"or set --aggregator-opt clips=... to divide T"
            )
        return n, t // n

    @staticmethod
    def _fill_clips(features: torch.Tensor, mask: torch.Tensor | None, length: int):
        """Repeat frames in temporal order (nearest index) to ``length`` frames: [B, T, D] -> [B, length, D]."""
        t = features.shape[1]
        idx = torch.linspace(0, t - 1, length, device=features.device).round().long()
        return features[:, idx], None if mask is None else mask[:, idx]

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        b, t, d = features.shape
        n, k = self._clip_shape(t)
        if n * k != t:
            features, mask = self._fill_clips(features, mask, n * k)
        clips = features.reshape(b * n, k, d)
        frame_mask = None if mask is None else mask.reshape(b * n, k)
        r, w = self.encoder(clips, frame_mask)  # R_i [B*n, D], w_k [B*n, K]
        r, w = r.reshape(b, n, d), w.reshape(b, n, k)
        clip_mask = None if mask is None else mask.reshape(b, n, k).any(-1)
        if clip_mask is not None:  # a padded clip is a zero vector (as the conv's zero padding)
            r = r * clip_mask.unsqueeze(-1).to(r.dtype)
        extras = {"frame_weights": w}
        if self.eian is not None:
            out = self.eian(r, clip_mask)
            logits, embedding = out["logits"], out["embedding"]
            predicted = logits.argmax(1)
            a = out["attention"]
            if a.dim() == 2:  # variant=code: one channel [B, n] for every class
                a = a.unsqueeze(2).expand(-1, -1, logits.shape[1]).contiguous()
            extras["clip_scores"] = a
            extras["attention"] = a.gather(2, predicted.view(-1, 1, 1).expand(-1, n, 1)).squeeze(2)
            extras["emotion_clip"] = emotion_rich_clip(a, predicted)
        else:
            m = torch.ones(b, n, device=r.device, dtype=r.dtype) if clip_mask is None else clip_mask.to(r.dtype)
            embedding = (r * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0)
            logits = self.classifier(self.dropout(embedding))
        return AggregatorOutput(embedding=embedding, logits=logits, extras=extras)

    def fold_metrics(self, report: FoldReport) -> dict[str, float]:
        """Table 7: how often P_e is the apex clip (``pe_apex_hit``), beside chance and a position prior."""
        return apex_clip_metrics(report, self.options.clips, self.options.frames_per_clip)

    def classification_loss(self, output: AggregatorOutput, target: torch.Tensor) -> torch.Tensor | None:
        """Eq. 11 per video [B] (None with loss=ce: the run's loss is used)."""
        return eq11_loss(output.logits, target) if self.options.loss == "eq11" else None


def build_eian(options: EIANOptions, in_dim: int, num_classes: int) -> CEFLNetAggregator:
    return CEFLNetAggregator(options, in_dim, num_classes)
