"""Stage 1: REL-GAN pre-training (Sec. 3.1, 4.1) on pairs from the fold's training samples.

Each step updates D once (Eq. 1) and G once, or ``g_steps`` times once D is
near optimal ("in later iterations ... G is updated more frequently than D").
G minimises Eq. 4; D maximises Eq. 1. Adam (lr 1e-4, beta_1 0.5) for both.
"""

from __future__ import annotations

import time
from typing import Callable

import torch
import torch.nn.functional as F

from ferbench.components import StageContext
from ferbench.seeding import mix_seed

from .losses import Lambdas, discriminator_loss, generator_loss
from .networks import Discriminator, Generator
from .options import RelGANOptions
from .pairs import FrameBank, Pairs, PairSampler, View, augment, random_views


def pair_tensors(bank: FrameBank, pairs: Pairs, o: RelGANOptions, generator: torch.Generator, device: torch.device):
    """x_s, x_t, x_tg as [N, C, S, S] float32 on ``device``; x_t and x_tg share one augmentation
    view (so the pixel target is aligned with the target face), x_s has its own."""
    n = len(pairs.source)
    if o.augment:
        v_s, v_t = random_views(n, generator), random_views(n, generator)
    else:
        v_s = v_t = [View()] * n
    x_s = augment(bank.frames[pairs.source], o.image_size, v_s)
    x_t = augment(bank.frames[pairs.target], o.image_size, v_t)
    x_tg = augment(bank.frames[pairs.truth], o.image_size, v_t)
    return x_s.to(device), x_t.to(device), x_tg.to(device)


def train_gan(gen: Generator, ctx: StageContext, o: RelGANOptions, num_expressions: int,
              monitor: Callable[[int, Generator], None] | None = None) -> dict[str, float]:
    """Train ``gen`` in place for ``o.steps`` D-steps; returns the last logged averages.

    The discriminator is built here (N_e = the run's classes, N_i = the fold's
    training subjects) and dropped afterwards: only G is cached and used.
    """
    device = ctx.device
    bank = FrameBank.from_dataset(ctx.train_loader.dataset, o.apex_frames)
    sampler = PairSampler(bank.labels, bank.subjects)
    channels = bank.frames.shape[1]
    disc = Discriminator(channels, num_expressions, bank.num_identities, o.image_size, o.disc_channels, o.disc_fc).to(device)
    gen.to(device).train()
    for p in gen.parameters():
        p.requires_grad_(True)
    betas = (o.beta1, 0.999)
    opt_g = torch.optim.Adam(gen.parameters(), lr=o.lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=o.lr, betas=betas)
    lam = Lambdas(o.lambda_adv, o.lambda_pixel, o.lambda_de, o.lambda_di)
    rng = torch.Generator().manual_seed(mix_seed(ctx.seed, 104729))
    ctx.log(
        f"relgan: {len(bank.frames)} frames of {len(bank.samples)} samples, {bank.num_identities} identities, "
        f"{num_expressions} expressions; {o.steps} steps of {o.batch_size} pairs at {o.image_size}px"
    )
    acc_ema, late, t0 = 0.0, False, time.perf_counter()
    sums: dict[str, float] = {}
    count = 0
    last: dict[str, float] = {}

    def record(values: dict[str, float], step: int) -> None:
        nonlocal sums, count, last
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + float(v)
        count += 1
        if (step + 1) % o.log_every == 0 or step + 1 == o.steps:
            last = {k: v / count for k, v in sums.items()}
            ctx.log(
                f"relgan step {step + 1}/{o.steps} ({time.perf_counter() - t0:.0f}s, {ctx.eta(step + 1, o.steps)}): "
                + " ".join(f"{k} {v:.4g}" for k, v in last.items())
            )
            sums, count = {}, 0
        if monitor is not None and (step + 1) % o.log_every == 0:
            gen.eval()
            monitor(step + 1, gen)
            gen.train()

    for step in range(o.steps):
        if step < o.pixel_warmup:
            # ---- warm-up (off by default): G alone on lambda_2 L_pixel of Eq. 3, D not yet trained
            pairs = sampler.draw(o.batch_size, rng)
            x_s, x_t, x_tg = pair_tensors(bank, pairs, o, rng, device)
            pixel = F.l1_loss(gen(x_s, x_t), x_tg)
            opt_g.zero_grad(set_to_none=True)
            (lam.pixel * pixel).backward()
            opt_g.step()
            record({"G_pixel": pixel.detach(), "copy_t_pixel": F.l1_loss(x_t, x_tg)}, step)
            continue
        # ---- D: maximise Eq. 1 on real x_s (expression), real x_t (identity) and fake G(x_s, x_t)
        pairs = sampler.draw(o.batch_size, rng)
        x_s, x_t, _ = pair_tensors(bank, pairs, o, rng, device)
        y_s, y_t = pairs.y_s.to(device), pairs.y_t.to(device)
        with torch.no_grad():
            fake = gen(x_s, x_t)
        # real and fake in separate batches (DCGAN practice): D's BatchNorm then sees fakes alone, as in G's step
        e, i = disc(torch.cat([x_s, x_t]))
        e_fake, _ = disc(fake)
        n = len(y_s)
        d = discriminator_loss(e[:n], y_s, i[n:], y_t, e_fake)
        opt_d.zero_grad(set_to_none=True)
        d["total"].backward()
        opt_d.step()
        with torch.no_grad():
            acc = min(float((e[:n, :-1].argmax(1) == y_s).float().mean()), float((i[n:].argmax(1) == y_t).float().mean()))
        acc_ema = 0.9 * acc_ema + 0.1 * acc
        if not late and acc_ema > o.d_optimal:
            late = True
            ctx.log(f"relgan: D near optimal at step {step + 1} (running real accuracy {acc_ema:.2f}); G now takes {o.g_steps} steps per D step")
        # ---- G: minimise Eq. 4 (once, or g_steps times once D is near optimal)
        for k in range(o.g_steps if late else 1):
            if k:
                pairs = sampler.draw(o.batch_size, rng)
                y_s, y_t = pairs.y_s.to(device), pairs.y_t.to(device)
            x_s, x_t, x_tg = pair_tensors(bank, pairs, o, rng, device)
            fake = gen(x_s, x_t)
            e_f, i_f = disc(fake)
            g = generator_loss(e_f, i_f, fake, x_tg, y_s, y_t, lam)
            opt_g.zero_grad(set_to_none=True)
            g["total"].backward()
            opt_g.step()
        values = {**{"D_" + k: v.detach() for k, v in d.items()}, **{"G_" + k: v.detach() for k, v in g.items()}}
        record({**values, "copy_t_pixel": F.l1_loss(x_t, x_tg), "D_real_acc": acc}, step)
    gen.eval()
    return last
