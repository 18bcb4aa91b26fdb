"""Compressed-domain inputs of IFERCV: ``residual``, ``residual-acc``, ``mv``, ``residual+mv``, ``iframe``.

``load`` decodes the video once with motion-vector export
(:func:`ferbench.data.compressed.extract`), resizes to ``size`` x ``size`` and
returns (cached by the engine):

* ``residual`` float16 [P, 3, S, S], Δ^t / 255 (signed, in [-1, 1]) per P-frame
  (accumulated to the GOP's I-frame when ``accumulate``); ``x`` holds Δ^t / ``residual_scale``;
* ``mv`` float16 [P, 2, S, S], T^t = (dx, dy) in pixels of the resized frame;
* ``iframes`` uint8 [G, 3, S, S], the decoded I-frames; ``gop`` int64 [P], each
  P-frame's GOP;
* ``apex`` uint8 [3, S, S], the decoded apex frame (``Sample.apex``; when the
  dataset does not know it: the last frame, as in CK+ with ``apex_fallback=last``,
  or the middle frame with ``apex_fallback=middle``, as in MMI; with the default
  ``apex_fallback=none`` the last frame stands in and ``apex_known`` is 0);
* ``apex_known`` float32 [1]: 1 when ``apex`` is an annotated apex (or a chosen
  fallback), 0 when it only stands in: the paper applies the apex reconstruction
  "when the apex is annotated" (Sec. III-B), so the ``ifercv`` disentangler skips
  those samples.

``sample`` picks T P-frames (TSN segments over the P-frames: random in
training, centres in evaluation) and returns ``x`` [T, C, S, S] plus the side
inputs ``iframe`` [3, S, S], ``apex`` [3, S, S] (ImageNet-normalised RGB) and
``apex_known`` [1] that the ``ifercv`` disentangler uses through ``Batch.side``.

``test_x(sample)`` is the test-time path straight from the file: the same ``x``
as ``sample(load(sample), train=False)``, but only the T sampled P-frames and
their references are converted to RGB and warped (``extract(..., p_frames=...)``),
and no I-frames or apex are produced (the engine caches ``load`` for training
and evaluation alike, so it keeps using the full path).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F

from ferbench.components import InputSignature
from ferbench.data.compressed import CompressedVideo, extract
from ferbench.data.frame_sampling import segment_indices
from ferbench.data.manifest import Sample
from ferbench.errors import OptionError
from ferbench.options import stable_hash

IMAGENET_MEAN = torch.tensor((0.485, 0.456, 0.406)).view(3, 1, 1)
IMAGENET_STD = torch.tensor((0.229, 0.224, 0.225)).view(3, 1, 1)
_EVAL = torch.Generator()  # evaluation sampling does not draw from it

#: input name -> (channels of x, what x holds)
KINDS = {
    "residual": (3, "residual"),
    "residual-acc": (3, "residual"),
    "mv": (2, "mv"),
    "residual+mv": (5, "residual+mv"),
    "iframe": (3, "iframe"),
}


@dataclasses.dataclass(frozen=True)
class CompressedOptions:
    """Options of the compressed-domain inputs.

    Attributes:
        frames: T, P-frames (I-frames for ``iframe``) per sample.
        size: side of the square maps, pixels (residuals and I-frames are area-resized, vectors rescaled).
        accumulate: residuals accumulated to the GOP's I-frame (CoViAR) instead of to the previous frame.
        intra: prediction of intra (vector-less) pixels: ``colocated`` (previous frame, zero motion) or ``raw`` (zero).
        refs: candidate reference frames per block (1 = previous frame; 3 for default-x264 files).
        residual_scale: residuals are divided by this many 8-bit levels in ``x`` (/255 falls below BatchNorm's eps).
        mv_norm: motion vectors are divided by this many pixels in ``x``.
        identity_frame: side input ``iframe``: ``first`` (video's first I-frame, as in the paper) or ``gop`` (sampled GOP's).
        apex_fallback: apex when ``Sample.apex`` is unknown: ``none`` (the paper: no apex reconstruction for
            that sample), ``last`` (CK+-like) or ``middle`` (MMI-like).
        hflip: random horizontal flips in training (mirrors dx of motion vectors too); the paper names no
            augmentation.
    """

    frames: int = 8
    size: int = 64
    accumulate: bool = False
    intra: Literal["colocated", "raw"] = "colocated"
    refs: int = 1
    residual_scale: float = 8.0
    mv_norm: float = 1.0
    identity_frame: Literal["first", "gop"] = "first"
    apex_fallback: Literal["none", "last", "middle"] = "none"
    hflip: bool = False


@dataclasses.dataclass(frozen=True)
class ResidualAccOptions(CompressedOptions):
    """Options of ``residual-acc`` (``residual`` with ``accumulate=true``).

    Attributes:
        accumulate: residuals accumulated to the GOP's I-frame (CoViAR).
    """

    accumulate: bool = True


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, H, W] float -> [N, C, size, size] (area when shrinking, bilinear when growing)."""
    if x.shape[-2:] == (size, size):
        return x
    if x.shape[-1] >= size and x.shape[-2] >= size:
        return F.interpolate(x, size=(size, size), mode="area")
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class CompressedInput:
    """One of :data:`KINDS`; see the module docstring for ``load`` and ``sample``."""

    def __init__(self, kind: str, options: CompressedOptions) -> None:
        if kind not in KINDS:
            raise OptionError(f"unknown compressed input {kind!r} (valid: {', '.join(KINDS)})")
        o = options
        if o.frames < 1 or o.size < 16:
            raise OptionError(f"input '{kind}' needs frames >= 1 and size >= 16, got frames={o.frames} size={o.size}")
        if o.intra not in ("colocated", "raw") or o.identity_frame not in ("first", "gop") or o.apex_fallback not in ("none", "last", "middle"):
            raise OptionError(f"input '{kind}': intra must be colocated|raw, identity_frame first|gop, apex_fallback none|last|middle")
        if o.refs < 1 or o.mv_norm <= 0 or o.residual_scale <= 0:
            raise OptionError(f"input '{kind}' needs refs >= 1, mv_norm > 0 and residual_scale > 0")
        self.kind, self.options = kind, o
        channels, self.holds = KINDS[kind]
        s = o.size
        self.signature = InputSignature(channels=channels, frames=o.frames, height=s, width=s,
                                        side={"iframe": (3, s, s), "apex": (3, s, s), "apex_known": (1,)})

    def cache_key(self) -> str:
        o = self.options
        return stable_hash({"kind": self.holds, "size": o.size, "acc": o.accumulate, "intra": o.intra,
                            "refs": o.refs, "apex": o.apex_fallback, "v": 2})

    def _apex_position(self, sample: Sample) -> int:
        if sample.apex is not None:
            return int(sample.apex)
        if self.options.apex_fallback in ("last", "none"):  # "none": the last frame only stands in
            return -1
        return -2 if sample.num_frames is None else sample.num_frames // 2

    def load(self, sample: Sample) -> dict[str, torch.Tensor]:
        """Decode and extract; tensors as in the module docstring."""
        o = self.options
        apex = self._apex_position(sample)
        need_res = self.holds in ("residual", "residual+mv")
        v = extract(sample.path, want_mv=self.holds in ("mv", "residual+mv"), want_residual=need_res and not o.accumulate,
                    accumulate=need_res and o.accumulate, want_iframes=True,
                    keep_frames=(apex,) if apex != -2 else (), intra=o.intra, refs=o.refs)
        if apex == -2:  # middle of a video whose length the manifest does not know
            apex = v.num_frames // 2
            v.frames = extract(sample.path, want_mv=False, want_residual=False, want_iframes=False,
                               keep_frames=(apex,), refs=1).frames
        return {
            "iframes": self._iframes(v),
            "apex": _resize(torch.from_numpy(v.frames).permute(0, 3, 1, 2).float(), o.size)[0].round().clamp(0, 255).to(torch.uint8),
            "apex_known": torch.tensor([float(sample.apex is not None or o.apex_fallback != "none")]),
            "gop": torch.from_numpy(v.gop_index[v.p_index]),
            "p_index": torch.from_numpy(v.p_index),
            **self._maps(v),
        }

    def _iframes(self, v: CompressedVideo) -> torch.Tensor:
        """The decoded I-frames, uint8 [G, 3, S, S]."""
        return _resize(torch.from_numpy(v.iframes).permute(0, 3, 1, 2).float(), self.options.size).round().clamp(0, 255).to(torch.uint8)

    def _maps(self, v: CompressedVideo) -> dict[str, torch.Tensor]:
        """``residual`` float16 [R, 3, S, S] (Δ/255) and/or ``mv`` float16 [R, 2, S, S] (pixels at size S) of v's rows."""
        o = self.options
        out = {}
        if self.holds in ("residual", "residual+mv"):
            res = v.residual_acc if o.accumulate else v.residual
            out["residual"] = _resize(torch.from_numpy(res).permute(0, 3, 1, 2) / 255.0, o.size).half()
        if self.holds in ("mv", "residual+mv"):
            h, w = v.mv.shape[1:3]
            mv = _resize(torch.from_numpy(v.mv).permute(0, 3, 1, 2), o.size)
            mv[:, 0] *= o.size / w
            mv[:, 1] *= o.size / h
            out["mv"] = mv.half()
        return out

    def _x(self, maps: dict[str, torch.Tensor], idx) -> torch.Tensor:
        """x [T, C, S, S] float32 from the stored maps at P-frame rows ``idx``: Δ / residual_scale levels ‖ T / mv_norm."""
        o = self.options
        parts = []
        if "residual" in maps:
            parts.append(maps["residual"][idx].float() * (255.0 / o.residual_scale))
        if "mv" in maps:
            parts.append(maps["mv"][idx].float() / o.mv_norm)
        return torch.cat(parts, 1)

    def test_x(self, sample: Sample) -> torch.Tensor:
        """The test-time input straight from the file, equal to ``sample(load(s), train=False)["x"]`` ([T, C, S, S]).

        Only what prediction needs: every frame is decoded (the codec needs them), but only
        the T P-frames the evaluation sampler picks and their references are converted to RGB
        and warped (with ``refs=1`` and no ``accumulate``); no I-frames, apex or side inputs.
        """
        o = self.options
        if self.holds == "iframe":
            v = extract(sample.path, want_mv=False, want_residual=False, want_iframes=True)
            iframes = self._iframes(v)
            idx = segment_indices(iframes.shape[0], o.frames, train=False, generator=_EVAL)
            return ((iframes[idx].float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD).contiguous()
        need_res = self.holds in ("residual", "residual+mv")
        v = extract(sample.path, want_mv=self.holds in ("mv", "residual+mv"), want_residual=need_res and not o.accumulate,
                    accumulate=need_res and o.accumulate, want_iframes=False, intra=o.intra, refs=o.refs,
                    p_frames=lambda n: segment_indices(n, o.frames, train=False, generator=_EVAL).numpy())
        return self._x(self._maps(v), slice(None)).contiguous()

    def sample(self, loaded: dict[str, torch.Tensor], *, train: bool, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``{"x": [T, C, S, S] float32, "iframe": [3, S, S], "apex": [3, S, S], "apex_known": [1]}``."""
        o = self.options
        iframes = loaded["iframes"]
        if self.holds == "iframe":
            idx = segment_indices(iframes.shape[0], o.frames, train=train, generator=generator)
            x = (iframes[idx].float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
            first_gop = int(idx[0])
        else:
            idx = segment_indices(loaded["gop"].shape[0], o.frames, train=train, generator=generator)
            x = self._x(loaded, idx)
            first_gop = int(loaded["gop"][idx[0]])
        ident = iframes[0 if o.identity_frame == "first" else first_gop]
        side = {
            "iframe": (ident.float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD,
            "apex": (loaded["apex"].float() / 255.0 - IMAGENET_MEAN) / IMAGENET_STD,
        }
        if train and o.hflip and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
            if self.holds in ("mv", "residual+mv"):
                x[:, -2] = -x[:, -2]  # dx changes sign under a mirror
            side = {k: v.flip(-1) for k, v in side.items()}
        known = loaded["apex_known"].float() if "apex_known" in loaded else torch.ones(1)
        out = {"x": x.contiguous(), **{k: v.contiguous() for k, v in side.items()}, "apex_known": known}
        if self.holds != "iframe":  # the source frame of each sampled P-frame (Evaluation.frame_index)
            out["frame_index"] = loaded["p_index"][idx].long()
        return out


def builder(kind: str):
    """The factory of input ``kind``: ``options -> CompressedInput``."""

    def build(options: CompressedOptions) -> CompressedInput:
        return CompressedInput(kind, options)

    build.__name__ = f"build_{kind.replace('+', '_').replace('-', '_')}"
    return build
