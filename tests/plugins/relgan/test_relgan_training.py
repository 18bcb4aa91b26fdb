"""relgan stage 1 loop (``training.train_gan``): the optional pixel warm-up, the copy-x_t baseline in
the log, the monitor callback; on a tiny in-memory bank (4 subjects x 3 expressions, 32 px)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from ferbench.data.manifest import Sample
from ferbench.errors import OptionError
from ferbench.options import build_options
from ferbench_relgan.networks import Generator
from ferbench_relgan.options import RelGANOptions
from ferbench_relgan.training import train_gan


class _Videos:
    """Stands in for a FERDataset: ``samples`` and items {"x": [T, C, H, W]} (no input cache)."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.samples, self.videos = [], []
        for s in range(4):
            face = torch.rand(3, 1, 1, generator=g)
            for e in range(3):
                x = face.expand(3, 32, 32).clone()
                x[:, 8 + 4 * e : 12 + 4 * e, 8:24] = 1.0  # the "expression": a bar whose height is the class
                self.samples.append(Sample(id=f"s{s}e{e}", path="", label=e, subject=f"s{s}", num_frames=2))
                self.videos.append(x.expand(2, 3, 32, 32).clone())

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, j: int) -> dict:
        return {"x": self.videos[j]}


def _train(steps: int, warmup: int, monitor=None) -> tuple[list[str], Generator, dict]:
    torch.manual_seed(0)
    o = build_options(RelGANOptions, {"base_channels": "4", "image_size": "32", "disc_fc": "16", "batch_size": "4",
                                      "steps": str(steps), "pixel_warmup": str(warmup), "log_every": "2", "lr": "1e-3"})
    gen = Generator(3, o.base_channels, o.expression_dim, o.identity_dim, o.image_size)
    lines: list[str] = []
    ctx = SimpleNamespace(train_loader=SimpleNamespace(dataset=_Videos()), device=torch.device("cpu"), seed=0,
                          log=lines.append, eta=lambda done, total: "ETA stage ?")
    last = train_gan(gen, ctx, o, num_expressions=3, monitor=monitor)
    return lines, gen, last


def test_pixel_warmup_is_off_by_default_and_checked():
    assert RelGANOptions().pixel_warmup == 0
    with pytest.raises(OptionError, match="pixel_warmup"):
        build_options(RelGANOptions, {"pixel_warmup": "-1"})


def test_warmup_trains_g_on_the_pixel_loss_alone_then_d_joins():
    lines, _, last = _train(steps=4, warmup=2)
    steps = [line for line in lines if line.startswith("relgan step")]
    assert len(steps) == 2
    # warm-up window: G's pixel loss and the copy-x_t baseline only, no D and no Eq. 4 terms
    assert "G_pixel" in steps[0] and "copy_t_pixel" in steps[0] and "D_" not in steps[0] and "G_de" not in steps[0]
    # afterwards the paper's objectives (Eq. 1 for D, Eq. 4 for G)
    assert {"D_total", "G_adv", "G_pixel", "G_de", "G_di", "G_total", "copy_t_pixel", "D_real_acc"} <= set(last)


def test_paper_schedule_logs_d_from_the_first_step():
    lines, _, last = _train(steps=2, warmup=0)
    assert "D_total" in [line for line in lines if line.startswith("relgan step")][0]
    assert last["copy_t_pixel"] > 0  # x_t and x_tg differ (same face, other expression bar)


def test_monitor_sees_the_generator_at_log_steps_in_eval_mode():
    seen = []
    _, gen, _ = _train(steps=4, warmup=4, monitor=lambda step, g: seen.append((step, g.training)))
    assert seen == [(2, False), (4, False)]
    assert not gen.training


def test_warmup_lowers_the_reconstruction_error():
    lines, _, _ = _train(steps=40, warmup=40)
    pixel = [float(line.split("G_pixel ")[1].split()[0]) for line in lines if line.startswith("relgan step")]
    assert pixel[-1] < 0.8 * pixel[0]
