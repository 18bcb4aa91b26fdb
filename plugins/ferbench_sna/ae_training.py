"""The autoencoder's two training stages (Sec. III-B, IV-B) on the frames of the run's input.

Stage 1: Loss_AE (Eq. 4). Stage 2 (refinement): decoder with
Loss_G = lambda_AE Loss_AE + lambda_Adv Loss_Adv^G + lambda_Rec Loss_Rec (Eq. 8),
WGAN critic with Loss_Adv^D (Eq. 6) trained once per ``critic_every``
generator steps (every step in the first refinement epoch), RMSprop, weight
clipping. The encoder is frozen in stage 2 (the paper's generator is the
decoder, Eq. 7).

Frames: every training batch x [B, T, C, H, W] is flattened to B*T frames and
re-batched to the stage's batch size.
"""

from __future__ import annotations

import copy
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ferbench.components import HasPerceptualFeatures, InputSignature, StageContext
from ferbench.losses import cross_entropy

from .autoencoder import AsymmetricAutoencoder, Critic, loss_ae
from .multiscale import MultiScaleOptions, SNAMultiScale
from .selector_options import SNAOptions

FeatureFn = Callable[[torch.Tensor], list[torch.Tensor]]


def _set_epoch(loader, epoch: int) -> None:
    for obj in (getattr(loader, "batch_sampler", None), getattr(loader, "dataset", None)):
        if obj is not None and hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)


def frame_batches(loader, batch_size: int, device: torch.device, epoch: int, with_labels: bool = False) -> Iterator:
    """Frames [n, C, H, W] (and per-frame labels [n]) of one pass over ``loader``, ``batch_size`` at a time."""
    _set_epoch(loader, 10_000 + epoch)
    buf_x: list[torch.Tensor] = []
    buf_y: list[torch.Tensor] = []
    count = 0
    for batch in loader:
        t = batch.x.shape[1]
        buf_x.append(batch.x.flatten(0, 1))
        buf_y.append(batch.label.repeat_interleave(t))
        count += buf_x[-1].shape[0]
        while count >= batch_size:
            x, y = torch.cat(buf_x), torch.cat(buf_y)
            out = (x[:batch_size].to(device), y[:batch_size].to(device))
            buf_x, buf_y = [x[batch_size:]], [y[batch_size:]]
            count -= batch_size
            yield out if with_labels else out[0]
    if count >= 2:  # BatchNorm needs two frames
        out = (torch.cat(buf_x).to(device), torch.cat(buf_y).to(device))
        yield out if with_labels else out[0]


class _PrivateFER(nn.Module):
    """Fallback FER network: a Table II network on the run's frames plus a linear head."""

    def __init__(self, signature: InputSignature, num_classes: int, width: float) -> None:
        super().__init__()
        self.backbone = SNAMultiScale(MultiScaleOptions(width=width), signature)
        self.head = nn.Linear(self.backbone.out_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def perceptual_network(ctx: StageContext, o: SNAOptions, signature: InputSignature, num_classes: int) -> tuple[FeatureFn | None, str]:
    """The FER network C of Eq. 5 and a description of which one it is.

    With ``perceptual="pretrain"``: a copy of the run's model when its backbone
    implements :class:`~ferbench.components.HasPerceptualFeatures` (sna-multiscale), else a private Table II
    network; trained ``perceptual_epochs`` epochs with cross-entropy on the
    fold's training frames, then frozen. The run's own model is not modified.
    """
    if o.perceptual == "none":
        return None, "none (pixel term only)"
    own = isinstance(getattr(ctx.model, "backbone", None), HasPerceptualFeatures)
    if own:
        net = copy.deepcopy(ctx.model).to(ctx.device)

        def loss_of(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            out = net(x.unsqueeze(1))  # frames as T=1 clips
            per = net.aggregator.classification_loss(out, y)
            return per if per is not None else cross_entropy(out.logits, y)

        features = lambda x: net.backbone.perceptual_features(x)  # noqa: E731
        what = "the run's sna-multiscale model"
    else:
        net = _PrivateFER(signature, num_classes, o.perceptual_width).to(ctx.device)
        loss_of = lambda x, y: cross_entropy(net(x), y)  # noqa: E731
        features = lambda x: net.backbone.perceptual_features(x)  # noqa: E731
        what = f"a private sna-multiscale network (width {o.perceptual_width}; the run's backbone has no Table II layers)"
    if o.perceptual == "pretrain" and o.perceptual_epochs > 0:
        opt = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.9, weight_decay=2e-3)  # Sec. IV-B FER settings
        net.train()
        for epoch in range(o.perceptual_epochs):
            total, n = 0.0, 0
            for x, y in frame_batches(ctx.train_loader, 32, ctx.device, epoch, with_labels=True):
                loss = loss_of(x, y).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total, n = total + loss.item() * len(y), n + len(y)
            ctx.log(f"sna perceptual net ({what}) epoch {epoch + 1}/{o.perceptual_epochs}: loss {total / max(n, 1):.4f}")
        what = f"{what}, trained {o.perceptual_epochs} epochs"
    else:
        what = f"{what}, untrained"
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return features, what


def loss_rec(recon: torch.Tensor, x: torch.Tensor, features: FeatureFn | None, o: SNAOptions) -> torch.Tensor:
    """Eq. 5: lambda_pixel * MSE(recon, x) + sum_k w_k * MSE(C_k(recon), C_k(x)), k = Conv3..Conv5 (means over elements)."""
    loss = o.lambda_pixel * F.mse_loss(recon, x)
    if features is not None:
        with torch.no_grad():
            real = features(x)
        for w, fr, ff in zip(o.perceptual_weights, real, features(recon)):
            loss = loss + w * F.mse_loss(ff, fr)
    return loss


def _ae_terms(ae: AsymmetricAutoencoder, x: torch.Tensor, o: SNAOptions) -> tuple[torch.Tensor, torch.Tensor]:
    code, feats = ae.encode_features(x)
    recon, rec_feats = ae.decode_features(code)
    alphas = (o.ae_alpha_input, 1.0, 1.0, 1.0, 1.0)
    return loss_ae(x, feats, recon, rec_feats, alphas), recon


def train_stage1(ae: AsymmetricAutoencoder, ctx: StageContext, o: SNAOptions) -> None:
    """Loss_AE (Eq. 4), encoder and decoder jointly; lr x0.1 every ``ae_step`` epochs."""
    params = list(ae.parameters())
    if o.ae_optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=o.ae_lr, momentum=0.9, weight_decay=o.ae_weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=o.ae_lr, weight_decay=o.ae_weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=o.ae_step or 10**9, gamma=0.1 if o.ae_step else 1.0)
    ae.train()
    for epoch in range(o.ae_epochs):
        total, n = 0.0, 0
        for x in frame_batches(ctx.train_loader, o.ae_batch_size, ctx.device, epoch):
            loss, _ = _ae_terms(ae, x, o)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(x), n + len(x)
        sched.step()
        ctx.log(f"sna autoencoder stage 1 epoch {epoch + 1}/{o.ae_epochs}: Loss_AE {total / max(n, 1):.4f} | "
                f"{ctx.eta(epoch + 1, o.ae_epochs + o.refine_epochs + o.perceptual_epochs)}")


def train_stage2(ae: AsymmetricAutoencoder, ctx: StageContext, o: SNAOptions, features: FeatureFn | None, signature: InputSignature) -> None:
    """Refinement (Eq. 6-8): decoder vs. a WGAN critic, encoder frozen."""
    critic = Critic(signature.channels, signature.height, signature.width).to(ctx.device)
    dec_params = [p for n, p in ae.named_parameters() if n.startswith("dec")]
    opt_g = torch.optim.RMSprop(dec_params, lr=o.refine_lr, momentum=0.0, weight_decay=0.0)
    opt_d = torch.optim.RMSprop(critic.parameters(), lr=o.critic_lr, momentum=0.0, weight_decay=0.0)
    step = 0
    for epoch in range(o.refine_epochs):
        ae.train()
        ae.preprocess.eval()
        ae.enc.eval()
        lam_ae = o.lambda_ae * 0.1 ** (epoch // max(1, o.lambda_ae_step))
        sums = {"G": 0.0, "D": 0.0, "rec": 0.0}
        n = 0
        for x in frame_batches(ctx.train_loader, o.refine_batch_size, ctx.device, epoch):
            with torch.no_grad():
                code, feats = ae.encode_features(x)
            recon, rec_feats = ae.decode_features(code)
            if epoch == 0 or step % o.critic_every == 0:  # Loss_Adv^D (Eq. 6): D(fake of I^u) - D(I^v)
                real_v = x[torch.randperm(len(x), device=x.device)]
                loss_d = critic(recon.detach()).mean() - critic(real_v).mean()
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                with torch.no_grad():
                    for p in critic.parameters():
                        p.clamp_(-o.critic_clip, o.critic_clip)
                sums["D"] += loss_d.item() * len(x)
            rec = loss_rec(recon, x, features, o)
            l_ae = loss_ae(x, feats, recon, rec_feats, (o.ae_alpha_input, 1.0, 1.0, 1.0, 1.0))
            loss_g = lam_ae * l_ae + o.lambda_adv * (-critic(recon).mean()) + o.lambda_rec * rec  # Eq. 7, 8
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            step += 1
            n += len(x)
            sums["G"] += loss_g.item() * len(x)
            sums["rec"] += rec.item() * len(x)
        ctx.log(
            f"sna autoencoder stage 2 epoch {epoch + 1}/{o.refine_epochs}: Loss_G {sums['G'] / max(n, 1):.4f} "
            f"Loss_Rec {sums['rec'] / max(n, 1):.4f} Loss_D {sums['D'] / max(n, 1):.4f} | "
            f"{ctx.eta(o.ae_epochs + o.perceptual_epochs + epoch + 1, o.ae_epochs + o.perceptual_epochs + o.refine_epochs)}"
        )


def train_autoencoder(ae: AsymmetricAutoencoder, ctx: StageContext, o: SNAOptions, signature: InputSignature, num_classes: int) -> None:
    """Both stages, in place. Leaves ``ae`` in eval mode with frozen parameters."""
    for p in ae.parameters():
        p.requires_grad_(True)
    train_stage1(ae, ctx, o)
    if o.refine_epochs > 0:
        features, what = perceptual_network(ctx, o, signature, num_classes)
        ctx.log(f"sna autoencoder stage 2: perceptual features from {what}")
        train_stage2(ae, ctx, o, features, signature)
    ae.eval()
    for p in ae.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        x = next(iter(frame_batches(ctx.train_loader, o.ae_batch_size, ctx.device, 0)), None)
        if x is not None:
            code = ae.encode(x)
            ctx.log(f"sna autoencoder: code std per dimension {code.std(0).mean().item():.3f} "
                    f"(compare with sigma), reconstruction MSE {(ae.decode(code) - x).pow(2).mean().item():.4f}")
