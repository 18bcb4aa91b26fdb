"""Disentangler ``ifercv``: identity-aware training of the FER branch (paper Sec. III-B, III-C).

Per batch (B videos), with z_E [B, D'] the aggregator embedding and
z_I = f_I(I-frame) [B, d_I] from the frozen identity encoder:

* marginal independence of z_I and z_E (paper ref. [23]), weight ``alpha``:
  ``independence=adversarial``: a critic MLP c(z_I, z_E) -> logit tells joint
  pairs (z_I^b, z_E^b) from pairs shuffled across the batch (z_I^b, z_E^π(b)),
  π a random derangement (a sample of the product of the marginals). The
  engine trains every parameter with one optimizer on the summed loss, so the
  min-max game is written as one minimisation:
  ``adversary=grl``: loss_ind = BCE(c(z_I, GRL_alpha(z_E))): the critic
  descends its BCE while the gradient reaching z_E is multiplied by -alpha
  (gradient reversal), i.e. the FER branch ascends the critic's BCE;
  ``adversary=confusion``: the critic descends BCE on detached z_E, and the
  FER branch descends alpha * BCE(c_frozen(z_I, z_E), 1/2) (drives the
  critic to chance) through a copy of the critic whose parameters are detached.
  ``independence=hsic``: alpha * HSIC(z_I, z_E), biased estimator with
  Gaussian kernels, median-heuristic bandwidths (no critic).
* complementary constraint (Eq. 1): Dec(z_I, z_E) reconstructs the apex frame
  (side input ``apex``), loss beta * mean squared error over the samples whose
  apex is annotated (side input ``apex_known``; the paper: "when the apex is
  annotated"), only while ``epoch < recon_epochs`` (0-based);
  ``reconstruction=false`` is the paper's ablation IFERCV-Î.

Only f_E, the LSTM and the classifier run at test time; the encoder, critic
and decoder exist only for training.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ferbench.components import Batch, Disentangler, ModelContext, ModelOutput, Stage, StageContext
from ferbench.errors import IncompatibleCombinationError, OptionError
from ferbench.options import stable_hash
from ferbench.paths import cache_path

from .identity import FaceNetEncoder, PretrainSpec, SyntheticFaceEncoder, pretrain_synthetic_encoder


@dataclasses.dataclass(frozen=True)
class IFERCVOptions:
    """Options of the ``ifercv`` disentangler.

    Attributes:
        identity: frozen identity encoder f_I: ``synthetic`` (ArcFace-trained small CNN, z_I 128-d) or ``facenet``
            (facenet-pytorch's InceptionResnetV1 on VGGFace2, z_I 512-d); the paper's FaceNet z_I is 1024-d.
        facenet_weights: path of 20180402-114759-vggface2.pt (else env FERBENCH_FACENET_WEIGHTS).
        independence: ``adversarial`` (critic, paper ref. [23]), ``hsic`` or ``none``.
        adversary: min-max form of the critic: ``grl`` (gradient reversal) or ``confusion``.
        alpha: weight of the independence objective on the FER branch (paper: alpha in [0, 1]).
        critic_hidden: hidden units of the critic's two layers.
        reconstruction: the complementary constraint Dec(z_I, z_E) -> apex frame (Eq. 1).
        beta: weight of the reconstruction loss (paper: beta in [0, 1]).
        recon_epochs: the reconstruction is used in epochs [0, recon_epochs) only.
        encoder_seed: SynthFER seed of the synthetic identities (must differ from the benchmark's).
        encoder_subjects: synthetic identities generated (incl. the held-out ones).
        encoder_heldout: identities held out to report the encoder's verification accuracy.
        encoder_epochs: ArcFace pre-training epochs.
        encoder_cache: folder of the cached encoder ('' = the run's cache directory).
    """

    identity: Literal["synthetic", "facenet"] = "synthetic"
    facenet_weights: str = ""
    independence: Literal["adversarial", "hsic", "none"] = "adversarial"
    adversary: Literal["grl", "confusion"] = "grl"
    alpha: float = 0.5
    critic_hidden: int = 256
    reconstruction: bool = True
    beta: float = 0.5
    recon_epochs: int = 3
    encoder_seed: int = 7919
    encoder_subjects: int = 40
    encoder_heldout: int = 10
    encoder_epochs: int = 6
    encoder_cache: str = ""


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward."""
    return _ReverseGrad.apply(x, scale)


def derangement(n: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A random permutation of range(n) with no fixed point (n >= 2): a random cyclic shift of a random order."""
    order = torch.randperm(n, device=device)
    shift = int(torch.randint(1, n, (1,)))
    out = torch.empty_like(order)
    out[order] = order.roll(shift)
    return out


def hsic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Biased HSIC of x [B, d1] and y [B, d2], Gaussian kernels with median-heuristic bandwidths (scalar)."""
    b = x.shape[0]

    def kernel(z: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(z, z).pow(2)
        med = d.detach()[~torch.eye(b, dtype=torch.bool, device=z.device)].median().clamp_min(1e-6)
        return torch.exp(-d / med)

    h = torch.eye(b, device=x.device) - 1.0 / b
    return torch.trace(kernel(x) @ h @ kernel(y) @ h) / (b - 1) ** 2


class Critic(nn.Module):
    """c(z_I, z_E) -> logit [B]: joint (1) versus shuffled (0) pairs."""

    def __init__(self, id_dim: int, expr_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(id_dim + expr_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )

    def forward(self, z_i: torch.Tensor, z_e: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z_i, z_e], 1)).squeeze(1)


class ApexDecoder(nn.Module):
    """Dec(z_I, z_E) -> [B, 3, S, S] (ImageNet-normalised RGB): linear to 4x4x128, x2 upsampling conv blocks."""

    def __init__(self, in_dim: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.fc = nn.Linear(in_dim, 128 * 4 * 4)
        blocks: list[nn.Module] = []
        c, s = 128, 4
        while s < size:
            cout = max(c // 2, 16)
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            c, s = cout, 2 * s
        self.up = nn.Sequential(*blocks, nn.Conv2d(c, 3, 3, padding=1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.up(F.relu(self.fc(z)).view(-1, 128, 4, 4))
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return x


def _cache_root(options: IFERCVOptions, ctx: ModelContext) -> Path:
    """``encoder_cache``, else the run's cache directory (``ModelContext.cache_dir``), else ferbench's default."""
    if options.encoder_cache:
        return Path(options.encoder_cache).expanduser()
    return ctx.cache_dir if ctx.cache_dir is not None else cache_path()


class IFERCVDisentangler(Disentangler):
    """See the module docstring. ``losses`` returns ``independence`` and (early epochs) ``reconstruction``."""

    def __init__(self, options: IFERCVOptions, ctx: ModelContext) -> None:
        super().__init__()
        o = options
        if o.identity not in ("synthetic", "facenet") or o.independence not in ("adversarial", "hsic", "none") or o.adversary not in ("grl", "confusion"):
            raise OptionError("disentangler 'ifercv': identity must be synthetic|facenet, independence adversarial|hsic|none, adversary grl|confusion")
        if o.alpha < 0 or o.beta < 0 or o.recon_epochs < 0:
            raise OptionError("disentangler 'ifercv': alpha, beta and recon_epochs must be >= 0")
        side = ctx.signature.side
        if "iframe" not in side or (o.reconstruction and "apex" not in side):
            raise IncompatibleCombinationError(
                "disentangler 'ifercv' needs the side inputs 'iframe' and 'apex' (got "
                f"{sorted(side) or 'none'}); use a compressed-domain input: residual, residual-acc, mv, residual+mv or iframe"
            )
        info = ctx.manifest.info or {}
        if o.identity == "synthetic" and info.get("generator") == "SynthFER" and info.get("options", {}).get("seed") == o.encoder_seed:
            raise IncompatibleCombinationError(
                f"disentangler 'ifercv': the synthetic identity encoder is trained on SynthFER seed {o.encoder_seed}, "
                "the seed of this dataset; pick another --disentangler-opt encoder_seed=N"
            )
        self.options = o
        self.spec = PretrainSpec(o.encoder_seed, o.encoder_subjects, o.encoder_heldout, o.encoder_epochs)
        self.cache_root = _cache_root(o, ctx)
        self.encoder_info: dict = {}
        self.encoder = FaceNetEncoder(o.facenet_weights) if o.identity == "facenet" else SyntheticFaceEncoder(self.spec.dim)
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        id_dim, e_dim = self.encoder.dim, ctx.embedding_dim
        self.critic = Critic(id_dim, e_dim, o.critic_hidden) if o.independence == "adversarial" else None
        self.decoder = ApexDecoder(id_dim + e_dim, ctx.signature.height) if o.reconstruction else None

    def train(self, mode: bool = True) -> "IFERCVDisentangler":
        super().train(mode)
        self.encoder.eval()  # frozen: BatchNorm statistics never move
        return self

    def stages(self) -> list[Stage]:
        if self.options.identity != "synthetic":
            return []
        return [Stage("identity-encoder", self.encoder, self._pretrain, key=stable_hash({"spec": self.spec.key()}))]

    def _pretrain(self, ctx: StageContext) -> None:
        state, self.encoder_info = pretrain_synthetic_encoder(self.spec, self.cache_root, ctx.log)
        self.encoder.load_state_dict(state)
        ctx.log(f"ifercv: identity encoder ready (held-out verification {self.encoder_info['verification_acc_heldout']}%)")

    def identity_features(self, iframe: torch.Tensor) -> torch.Tensor:
        """z_I [B, d_I] of the I-frames [B, 3, S, S] (no gradient)."""
        with torch.no_grad():
            return self.encoder(iframe).float()

    def critic_loss(self, z_i: torch.Tensor, z_e: torch.Tensor) -> torch.Tensor:
        """The independence objective of ``independence=adversarial`` (scalar; see module docstring)."""
        b = z_e.shape[0]
        perm = derangement(b, z_e.device)
        target = torch.cat([torch.ones(b, device=z_e.device), torch.zeros(b, device=z_e.device)])
        a = self.options.alpha
        if self.options.adversary == "grl":
            z = reverse_gradient(z_e, a)
            logits = torch.cat([self.critic(z_i, z), self.critic(z_i, z[perm])])
            return F.binary_cross_entropy_with_logits(logits, target)
        zd = z_e.detach()
        own = F.binary_cross_entropy_with_logits(torch.cat([self.critic(z_i, zd), self.critic(z_i, zd[perm])]), target)
        frozen = {k: v.detach() for k, v in self.critic.named_parameters()}
        fooled = torch.cat([functional_call(self.critic, frozen, (z_i, z_e)), functional_call(self.critic, frozen, (z_i, z_e[perm]))])
        return own + a * F.binary_cross_entropy_with_logits(fooled, torch.full_like(target, 0.5))

    def losses(self, batch: Batch, output: ModelOutput, epoch: int) -> dict[str, torch.Tensor]:
        z_e = output.embedding.float()
        z_i = self.identity_features(batch.side["iframe"])
        out: dict[str, torch.Tensor] = {}
        if z_e.shape[0] >= 2:
            if self.options.independence == "adversarial":
                out["independence"] = self.critic_loss(z_i, z_e)
            elif self.options.independence == "hsic":
                out["independence"] = self.options.alpha * hsic(z_i, z_e)
        if self.decoder is not None and epoch < self.options.recon_epochs:
            recon = self.decoder(torch.cat([z_i, z_e], 1))
            per_sample = F.mse_loss(recon, batch.side["apex"].float(), reduction="none").flatten(1).mean(1)  # [B]
            known = batch.side.get("apex_known")
            known = torch.ones_like(per_sample) if known is None else (known.reshape(-1) > 0.5).to(per_sample.dtype)
            out["reconstruction"] = self.options.beta * (per_sample * known).sum() / known.sum().clamp_min(1.0)
        return out


def build_ifercv(options: IFERCVOptions, ctx: ModelContext) -> IFERCVDisentangler:
    return IFERCVDisentangler(options, ctx)
