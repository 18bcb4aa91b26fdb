"""Selector ``sna``: semantic-neighbourhood-aware sample masking (Algorithm 1, Eq. 9-14).

Per training batch, with the model's current weights:

1. I_tr = H_d(H_e(I_o) + N), N ~ Normal(0, sigma^2) on the 64-d code (Eq. 9).
   A video's neighbour is the clip of its frames' neighbours (same frames,
   same order); with ``shared_noise`` one noise vector per video moves all its
   frames the same way in the code space.
2. P_o = softmax F(I_o), P_tr = softmax F(I_tr) (lines 5 and 7).
3. Div = (KL(P_o||P_tr) + KL(P_tr||P_o)) / 2 (Eq. 12-13), per sample [B].
4. T = ``threshold`` (Ours(T)) or the batch mean of Div (Ours(BT), Eq. 14).
5. m = delta(T - Div): 1 if Div < T, else 0 (Eq. 11); the engine multiplies each
   sample's loss by m, so masked samples contribute zero gradient (line 14).

The autoencoder (Table I) is this selector's pre-training :class:`Stage`,
trained on the frames of whatever input the run uses; the engine caches it
per fold.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from ferbench.components import Batch, ModelContext, ModelOutput, Selector, Stage, StageContext
from ferbench.errors import IncompatibleCombinationError
from ferbench.options import stable_hash

from .ae_training import train_autoencoder
from .autoencoder import AsymmetricAutoencoder
from .selector_options import AE_FIELDS, SNAOptions, parse_threshold, validate


def symmetric_kl(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Eq. 12-13: Div(P, Q) = (KL(P||Q) + KL(Q||P)) / 2 over the last axis. [B, K] x [B, K] -> [B], nats."""
    p = p.float().clamp_min(eps)
    q = q.float().clamp_min(eps)
    return 0.5 * ((p * (p.log() - q.log())).sum(-1) + (q * (q.log() - p.log())).sum(-1))


def neighbourhood_mask(div: torch.Tensor, threshold: float | None) -> tuple[torch.Tensor, float]:
    """m = delta(T - Div) [B] float (1 keep, 0 mask); T = ``threshold`` or mean(Div) (Eq. 14) when None."""
    t = float(div.mean()) if threshold is None else float(threshold)
    return (div < t).to(torch.float32), t


def _flip_flags(ctx: ModelContext) -> torch.Tensor | None:
    """[num samples] bool: the dataset says the sample's label was flipped (SynthFER meta['flipped']); None if unknown."""
    samples = ctx.manifest.samples
    if not any("flipped" in s.meta for s in samples):
        return None
    return torch.tensor([bool(s.meta.get("flipped", False)) for s in samples], dtype=torch.bool)


class SNASelector(Selector):
    """Masks samples whose prediction is unstable under a semantic neighbour. weights: [B] in {0, 1}."""

    def __init__(self, options: SNAOptions, ctx: ModelContext) -> None:
        super().__init__()
        validate(options)
        self.options = options
        self.threshold = parse_threshold(options.threshold)
        sig = ctx.signature
        if sig.height % 16 or sig.width % 16 or min(sig.height, sig.width) < 32:
            raise IncompatibleCombinationError(
                f"selector 'sna' synthesises neighbours with the Table I autoencoder, which needs frames whose sides "
                f"are multiples of 16 and >= 32 (paper: 112x112); this input gives {sig.height}x{sig.width}: "
                f"use --input gray112 or set the input's size to a multiple of 16"
            )
        self.signature = sig
        self.num_classes = ctx.num_classes
        self.feature_dim = ctx.feature_dim
        self.autoencoder = AsymmetricAutoencoder(sig.channels, sig.height, sig.width, dropout=options.ae_dropout).eval()
        for p in self.autoencoder.parameters():
            p.requires_grad_(False)
        self._flipped = _flip_flags(ctx)
        self._reset()

    # ------------------------------------------------------------------ stats
    def _reset(self) -> None:
        self._n = self._masked = self._flip_masked = self._flip_seen = 0
        self._div_sum = self._t_sum = 0.0
        self._batches = 0

    def epoch_stats(self) -> dict[str, float]:
        if self._n == 0:
            return {}
        stats = {
            "sna_masked": self._masked / self._n,
            "sna_div": self._div_sum / self._n,
            "sna_threshold": self._t_sum / max(self._batches, 1),
        }
        if self._flipped is not None:
            stats["sna_flip_rate"] = self._flip_seen / self._n
            if self._masked:
                stats["sna_precision"] = self._flip_masked / self._masked
        self._reset()
        return stats

    def fold_metrics(self, report) -> dict[str, float]:
        """Masking over training, means over epochs in %: ``sna_masked`` (samples masked), and where the
        dataset marks flipped labels ``sna_precision`` (masked samples that were flipped) and
        ``sna_flip_rate`` (the base rate a random mask would reach)."""
        out = {}
        for key in ("sna_masked", "sna_precision", "sna_flip_rate"):
            values = [h[key] for h in report.history if key in h]
            if values:
                out[key] = 100.0 * sum(values) / len(values)
        return out

    # ------------------------------------------------------------------ Algorithm 1
    def _noise(self, b: int, t: int, device: torch.device) -> torch.Tensor:
        dim = self.autoencoder.enc_fc.out_features
        if self.options.shared_noise:
            return (self.options.sigma * torch.randn(b, dim, device=device)).repeat_interleave(t, dim=0)
        return self.options.sigma * torch.randn(b * t, dim, device=device)

    @torch.no_grad()
    def neighbours(self, x: torch.Tensor) -> torch.Tensor:
        """Semantic neighbours of clips x [B, T, C, H, W] -> [B, T, C, H, W] (Eq. 9, per frame)."""
        b, t = x.shape[:2]
        self.autoencoder.eval()
        flat = x.flatten(0, 1)
        return self.autoencoder.neighbour(flat, self.options.sigma, self._noise(b, t, x.device)).view_as(x)

    @torch.no_grad()
    def divergence(self, batch: Batch, output: ModelOutput, model) -> torch.Tensor:
        """Div(P_o, P_tr) [B] with the model's current weights (Algorithm 1, lines 4-8)."""
        x_tr = self.neighbours(batch.x)
        is_module = isinstance(model, nn.Module)
        was_training = model.training if is_module else False
        if self.options.eval_mode and is_module:
            model.eval()
        try:
            if self.options.eval_mode and is_module:
                logits_o = model(batch.x, batch.side).logits
            else:
                logits_o = output.logits
            logits_tr = model(x_tr, batch.side).logits
        finally:
            if is_module:
                model.train(was_training)
        return symmetric_kl(logits_o.float().softmax(-1), logits_tr.float().softmax(-1))

    @torch.no_grad()
    def weights(self, batch: Batch, output: ModelOutput, model) -> torch.Tensor:
        div = self.divergence(batch, output, model)
        m, t = neighbourhood_mask(div, self.threshold)
        n = len(m)
        self._n += n
        self._masked += int((m == 0).sum())
        self._div_sum += float(div.sum())
        self._t_sum += t
        self._batches += 1
        if self._flipped is not None:
            flipped = self._flipped[batch.index.cpu()]
            self._flip_seen += int(flipped.sum())
            self._flip_masked += int((flipped & (m.cpu() == 0)).sum())
        return m.to(batch.label.device)

    # ------------------------------------------------------------------ stage
    def ae_key(self) -> dict:
        o = dataclasses.asdict(self.options)
        return {
            "ae": {k: o[k] for k in AE_FIELDS},
            "signature": [self.signature.channels, self.signature.height, self.signature.width],
            "feature_dim": self.feature_dim, "v": 1,
        }

    def _train_stage(self, ctx: StageContext) -> None:
        cache = None
        if self.options.ae_cache_dir:
            ids = sorted((s.id, s.path) for s in getattr(ctx.train_loader.dataset, "samples", []))  # paths: data version
            key = stable_hash([self.ae_key(), ids, ctx.seed, type(getattr(ctx.model, "backbone", ctx.model)).__name__])
            cache = Path(self.options.ae_cache_dir).expanduser() / f"sna-ae-{key}.pt"
            if cache.is_file():
                self.autoencoder.load_state_dict(torch.load(cache, map_location=ctx.device, weights_only=True))
                ctx.log(f"sna autoencoder loaded from {cache}")
                return
        train_autoencoder(self.autoencoder, ctx, self.options, self.signature, self.num_classes)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            torch.save(self.autoencoder.state_dict(), tmp)
            tmp.replace(cache)

    def stages(self) -> list[Stage]:
        return [Stage("autoencoder", self.autoencoder, self._train_stage, key=stable_hash(self.ae_key()))]


def build_sna_selector(options: SNAOptions, ctx: ModelContext) -> SNASelector:
    return SNASelector(options, ctx)
