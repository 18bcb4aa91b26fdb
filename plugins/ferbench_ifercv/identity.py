"""Identity encoders f_I for the I-frame (frozen), and the one-off pre-training of the synthetic one.

* :class:`FaceNetEncoder` — facenet-pytorch ``InceptionResnetV1`` (the paper's
  FaceNet) with VGGFace2 weights from a local file; z_I is 512-d (the paper
  writes 1024, see the README).
* :class:`SyntheticFaceEncoder` — a small CNN (z_I 128-d, L2-normalised)
  pre-trained with an ArcFace (additive angular margin) loss on SynthFER
  identities generated under a seed no benchmark split uses, cached on disk
  with its verification accuracy on held-out identities.

Both take ImageNet-normalised RGB [B, 3, S, S] (the inputs' ``iframe`` side
tensor) and return [B, dim] float32.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ferbench.errors import FerbenchError
from ferbench.fileio import atomic_torch_save, atomic_write_json

FACENET_FILE = "20180402-114759-vggface2.pt"
FACENET_ENV = "FERBENCH_FACENET_WEIGHTS"
_MEAN = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
_STD = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)


def unnormalise(x: torch.Tensor) -> torch.Tensor:
    """ImageNet-normalised [B, 3, H, W] -> RGB in [0, 1]."""
    return (x * _STD.to(x.device) + _MEAN.to(x.device)).clamp(0, 1)


class FaceNetEncoder(nn.Module):
    """InceptionResnetV1 (VGGFace2): [B, 3, S, S] -> [B, 512], resized to 160x160, FaceNet standardisation."""

    dim = 512

    def __init__(self, weights: str) -> None:
        super().__init__()
        path = Path(weights or os.environ.get(FACENET_ENV, "")).expanduser()
        if not weights and not os.environ.get(FACENET_ENV) or not path.is_file():
            raise FerbenchError(
                f"disentangler 'ifercv' with identity=facenet needs the VGGFace2 FaceNet weights file "
                f"'{FACENET_FILE}' (facenet-pytorch's GitHub release assets, timesler/facenet-pytorch, "
                f"release v2.2.9); download it once and pass --disentangler-opt facenet_weights=PATH "
                f"or set {FACENET_ENV}=PATH (looked at: '{path if str(path) != '.' else ''}')"
            )
        from facenet_pytorch import InceptionResnetV1

        self.net = InceptionResnetV1(pretrained=None, classify=False)
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("logits.")}
        self.net.load_state_dict(state, strict=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        img = F.interpolate(unnormalise(x), size=(160, 160), mode="bilinear", align_corners=False)
        return self.net((img * 255.0 - 127.5) / 128.0)


class SyntheticFaceEncoder(nn.Module):
    """Small CNN: [B, 3, S, S] -> L2-normalised [B, dim], input resized to 64x64."""

    def __init__(self, dim: int = 128, width: int = 32) -> None:
        super().__init__()
        self.dim = dim
        layers: list[nn.Module] = []
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embed = nn.Linear(8 * width, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (64, 64):
            x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
        return F.normalize(self.embed(self.features(x)), dim=1)


class ArcFaceHead(nn.Module):
    """Additive angular margin logits: s * cos(theta_y + m) for the target, s * cos(theta_j) otherwise."""

    def __init__(self, dim: int, classes: int, s: float = 30.0, m: float = 0.3) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.s, self.m = s, m

    def forward(self, z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        cos = F.linear(F.normalize(z, dim=1), F.normalize(self.weight, dim=1)).clamp(-1 + 1e-6, 1 - 1e-6)
        theta = torch.acos(cos)
        margin = torch.cos(theta + self.m)
        onehot = F.one_hot(target, cos.shape[1]).bool()
        return self.s * torch.where(onehot, margin, cos)


@dataclasses.dataclass(frozen=True)
class PretrainSpec:
    """What determines the cached synthetic encoder (its hash names the file).

    Attributes:
        seed: SynthFER seed of the identities (benchmarks use other seeds).
        subjects: identities generated; the last ``heldout`` are only used for verification.
        heldout: identities held out for the verification accuracy.
        epochs: ArcFace training epochs.
        dim: embedding size.
    """

    seed: int = 7919
    subjects: int = 40
    heldout: int = 10
    epochs: int = 6
    dim: int = 128

    def key(self) -> str:
        from ferbench.options import stable_hash

        return stable_hash({**dataclasses.asdict(self), "v": 1})


def _identity_images(spec: PretrainSpec, cache_root: Path, log: Callable[[str], None]) -> tuple[np.ndarray, np.ndarray]:
    """All frames of a SynthFER set generated with ``spec.seed``: uint8 [N, 64, 64, 3] and subject ids [N]."""
    from ferbench.data.video import read_video
    from ferbench.datasets.synthetic import generate, preset_options

    opts = preset_options("synthetic", seed=spec.seed, subjects=spec.subjects, videos_per_class=0.5, frames=8, size=64, gop=4)
    log(f"ifercv: generating {spec.subjects} SynthFER identities (seed {spec.seed}) for the identity encoder")
    manifest = generate(opts, "ifercv-identities", cache_root)
    subjects = sorted({s.subject for s in manifest.samples})
    index = {s: i for i, s in enumerate(subjects)}
    images, ids = [], []
    for s in manifest.samples:
        frames = read_video(s.path)
        images.append(frames)
        ids += [index[s.subject]] * len(frames)
    return np.concatenate(images), np.array(ids)


def _to_input(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return (x - _MEAN) / _STD


@torch.no_grad()
def _embed(encoder: nn.Module, x: torch.Tensor) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(x[i : i + 256]) for i in range(0, len(x), 256)])


def verification_accuracy(emb: torch.Tensor, ids: np.ndarray, threshold: float | None, pairs: int = 3000, seed: int = 0) -> tuple[float, float]:
    """Same/different-identity accuracy on balanced random pairs, cosine similarity > threshold.

    With ``threshold=None`` the best threshold on these pairs is chosen (training pairs).
    Returns ``(accuracy in percent, threshold)``.
    """
    rng = np.random.default_rng(seed)
    ids = np.asarray(ids)
    a = rng.integers(0, len(ids), 4 * pairs)
    b = rng.integers(0, len(ids), 4 * pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    same = ids[a] == ids[b]
    pos, neg = np.nonzero(same)[0][:pairs], np.nonzero(~same)[0][:pairs]
    n = min(len(pos), len(neg))
    sel = np.concatenate([pos[:n], neg[:n]])
    sim = (emb[a[sel]] * emb[b[sel]]).sum(1).numpy()
    label = same[sel]
    if threshold is None:
        cands = np.unique(sim)
        accs = [((sim > t) == label).mean() for t in cands[:: max(1, len(cands) // 400)]]
        threshold = float(cands[:: max(1, len(cands) // 400)][int(np.argmax(accs))])
    return 100.0 * float(((sim > threshold) == label).mean()), threshold


def pretrain_synthetic_encoder(spec: PretrainSpec, cache_root: Path, log: Callable[[str], None] = print) -> tuple[dict, dict]:
    """Train (or load from ``cache_root/ifercv/``) the synthetic identity encoder.

    Returns ``(state_dict, info)``; ``info`` holds the held-out verification accuracy.
    """
    folder = Path(cache_root).expanduser() / "ifercv"
    path = folder / f"identity-encoder-{spec.key()}.pt"
    info_path = path.with_suffix(".json")
    if path.is_file() and info_path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True), json.loads(info_path.read_text())
    if spec.heldout < 2 or spec.subjects - spec.heldout < 2:
        raise FerbenchError(f"identity pre-training needs >= 2 training and >= 2 held-out subjects, got {spec}")
    t0 = time.perf_counter()
    images, ids = _identity_images(spec, Path(cache_root).expanduser(), log)
    n_train = spec.subjects - spec.heldout
    train = ids < n_train
    x_train, y_train = _to_input(images[train]), torch.from_numpy(ids[train])
    x_held = _to_input(images[~train])
    gen = torch.Generator().manual_seed(spec.seed)
    torch.manual_seed(spec.seed)
    encoder = SyntheticFaceEncoder(spec.dim)
    head = ArcFaceHead(spec.dim, n_train)
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=2e-3, weight_decay=1e-4)
    steps = spec.epochs * math.ceil(len(x_train) / 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=max(steps, 1))
    for epoch in range(spec.epochs):
        encoder.train()
        order = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            xb = x_train[idx]
            if torch.rand(1, generator=gen).item() < 0.5:
                xb = xb.flip(-1)
            loss = F.cross_entropy(head(encoder(xb), y_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        log(f"ifercv: identity encoder epoch {epoch + 1}/{spec.epochs} arcface loss {total / len(x_train):.3f}")
    train_acc, threshold = verification_accuracy(_embed(encoder, x_train), ids[train], None, seed=1)
    held_acc, _ = verification_accuracy(_embed(encoder, x_held), ids[~train], threshold, seed=2)
    info = {"verification_acc_heldout": round(held_acc, 2), "verification_acc_train": round(train_acc, 2),
            "threshold": round(threshold, 4), "train_subjects": n_train, "heldout_subjects": spec.heldout,
            "images": int(len(images)), "seconds": round(time.perf_counter() - t0, 1), "spec": dataclasses.asdict(spec)}
    log(f"ifercv: identity encoder verification accuracy on {spec.heldout} held-out identities: {held_acc:.1f}%")
    folder.mkdir(parents=True, exist_ok=True)
    state = encoder.state_dict()
    atomic_torch_save(state, path)
    atomic_write_json(info_path, info)
    return state, info
