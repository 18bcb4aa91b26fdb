"""Conformance checks a plugin author can run on a component.

``check_component(spec)`` builds the component with its default options and
checks the contract of its kind: output shapes and dtype, gradients reaching
the parameters, determinism under a seed, and that the options survive a
round trip through ``key=value`` strings. It raises :class:`ConformanceError`
naming the component and the failed check, and returns the list of checks
passed. Use it in your plugin's tests::

    from ferbench.testing import check_component
    def test_my_aggregator(registry):
        check_component(registry.get("aggregator", "my-agg"))
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import torch

from .components import (
    AggregatorOutput,
    Batch,
    ComponentSpec,
    InputRepresentation,
    InputSignature,
    ModelContext,
    ModelOutput,
)
from .data.manifest import Manifest, ProtocolSpec, Sample
from .options import build_options, option_fields, options_to_dict

DEFAULT_SIGNATURE = InputSignature(channels=3, frames=4, height=64, width=64)


class ConformanceError(AssertionError):
    """A component that breaks its kind's contract."""


def _seeded(fn: Callable[[], Any], seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return fn()


def _check(ok: bool, spec: ComponentSpec, what: str) -> None:
    if not ok:
        raise ConformanceError(f"{spec.kind} '{spec.name}' (plugin {spec.plugin or '?'}): {what}")


def check_options_round_trip(spec: ComponentSpec) -> Any:
    """Defaults exist for every field and survive dict -> strings -> options."""
    try:
        defaults = spec.options()
    except TypeError as err:
        raise ConformanceError(f"{spec.kind} '{spec.name}': every option needs a default ({err})") from None
    _check(dataclasses.is_dataclass(defaults), spec, "options must be a dataclass")
    as_strings = {k: (",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)) for k, v in options_to_dict(defaults).items()}
    again = build_options(spec.options, as_strings)
    _check(again == defaults, spec, f"options do not round-trip through key=value strings: {again} != {defaults}")
    return defaults


def _grads_flow(spec: ComponentSpec, module: torch.nn.Module, loss: torch.Tensor) -> None:
    module.zero_grad(set_to_none=True)
    loss.backward()
    trainable = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    dead = [n for n, p in trainable if p.grad is None]
    _check(not trainable or len(dead) < len(trainable), spec, "no gradient reaches any trainable parameter")


def dummy_manifest(num_classes: int = 3, num_samples: int = 6) -> Manifest:
    samples = [Sample(id=f"x{i}", path="", label=i % num_classes, subject=f"s{i % 3}") for i in range(num_samples)]
    return Manifest("dummy", [f"c{i}" for i in range(num_classes)], samples, ProtocolSpec("kfold", folds=3))


def check_backbone(spec: ComponentSpec, signature: InputSignature = DEFAULT_SIGNATURE) -> list[str]:
    opts = check_options_round_trip(spec)
    build = lambda: spec.factory(opts, signature)  # noqa: E731
    net = _seeded(build)
    n = 3
    x = torch.randn(n, signature.channels, signature.height, signature.width)
    side = {k: torch.randn(n, *signature.side[k][1:]) for k in net.side_inputs}
    net.eval()
    y = net(x, **side)
    _check(y.shape == (n, net.out_dim), spec, f"output {tuple(y.shape)} != (N, out_dim={net.out_dim})")
    _check(y.dtype == torch.float32, spec, f"output dtype {y.dtype} != float32")
    y2 = _seeded(build).eval()(x, **side)
    _check(torch.allclose(y, y2), spec, "two builds under the same seed give different outputs")
    net.train()
    _grads_flow(spec, net, net(x, **side).pow(2).mean())
    return ["options", "shape", "dtype", "determinism", "gradients"]


def check_aggregator(spec: ComponentSpec, in_dim: int = 32, num_classes: int = 5, frames: int = 6) -> list[str]:
    opts = check_options_round_trip(spec)
    build = lambda: spec.factory(opts, in_dim, num_classes)  # noqa: E731
    agg = _seeded(build).eval()
    b = 4
    f = torch.randn(b, frames, in_dim)
    out = agg(f)
    _check(isinstance(out, AggregatorOutput), spec, "forward must return AggregatorOutput")
    _check(out.logits.shape == (b, num_classes), spec, f"logits {tuple(out.logits.shape)} != (B, K)")
    _check(out.embedding.shape == (b, agg.embedding_dim), spec, f"embedding {tuple(out.embedding.shape)} != (B, embedding_dim={agg.embedding_dim})")
    mask = torch.ones(b, frames, dtype=torch.bool)
    mask[0, frames // 2 :] = False
    masked = agg(f, mask)
    _check(masked.logits.shape == (b, num_classes), spec, "masked forward changes the logits shape")
    _check(torch.allclose(_seeded(build).eval()(f).logits, out.logits), spec, "not deterministic under a seed")
    agg.train()
    _grads_flow(spec, agg, agg(f).logits.pow(2).mean())
    return ["options", "shape", "mask", "determinism", "gradients"]


def _tiny_model_output(ctx: ModelContext, b: int) -> tuple[Batch, ModelOutput, Callable]:
    sig = ctx.signature
    x = torch.randn(b, sig.frames, sig.channels, sig.height, sig.width)
    side = {k: torch.randn(b, *shape) for k, shape in sig.side.items()}
    feats = torch.randn(b, sig.frames, ctx.feature_dim, requires_grad=True)
    emb = feats.mean(1)
    logits = emb[:, : ctx.num_classes] if ctx.feature_dim >= ctx.num_classes else emb.new_zeros(b, ctx.num_classes)
    out = ModelOutput(embedding=emb, logits=logits, features=feats)
    label = torch.arange(b) % ctx.num_classes
    batch = Batch(x=x, label=label, subject=torch.arange(b) % 3, index=torch.arange(b), side=side)
    model = lambda xx, ss=None, mask=None: out  # noqa: E731
    return batch, out, model


def _context(signature: InputSignature, dim: int = 16, num_classes: int = 3) -> ModelContext:
    return ModelContext(signature, dim, dim, num_classes, dummy_manifest(num_classes))


def check_disentangler(spec: ComponentSpec, signature: InputSignature = DEFAULT_SIGNATURE) -> list[str]:
    opts = check_options_round_trip(spec)
    ctx = _context(signature)
    dis = _seeded(lambda: spec.factory(opts, ctx))
    batch, out, _ = _tiny_model_output(ctx, 4)
    losses = dis.losses(batch, out, 0)
    for name, value in losses.items():
        _check(value.dim() == 0 and torch.isfinite(value), spec, f"loss '{name}' must be a finite scalar")
    _check(isinstance(dis.stages(), list), spec, "stages() must return a list")
    return ["options", "losses", "stages"]


def check_selector(spec: ComponentSpec, signature: InputSignature = DEFAULT_SIGNATURE) -> list[str]:
    opts = check_options_round_trip(spec)
    ctx = _context(signature)
    sel = _seeded(lambda: spec.factory(opts, ctx))
    batch, out, model = _tiny_model_output(ctx, 4)
    with torch.no_grad():
        w = sel.weights(batch, out, model)
    _check(w.shape == (4,), spec, f"weights {tuple(w.shape)} != (B,)")
    _check(bool(((w >= 0) & (w <= 1)).all()), spec, "weights must lie in [0, 1]")
    _check(isinstance(sel.epoch_stats(), dict), spec, "epoch_stats() must return a dict")
    return ["options", "weights", "stats"]


def check_input(spec: ComponentSpec, sample: Sample) -> list[str]:
    """Needs a real sample (a media file the input can read)."""
    opts = check_options_round_trip(spec)
    rep = spec.factory(opts)
    _check(isinstance(rep, InputRepresentation), spec, "factory must return an InputRepresentation")
    sig = rep.signature
    loaded = rep.load(sample)
    _check(all(isinstance(v, torch.Tensor) for v in loaded.values()), spec, "load() must return tensors")
    drawn = rep.sample(loaded, train=True, generator=torch.Generator().manual_seed(3))
    x = drawn["x"]
    _check(tuple(x.shape) == (sig.frames, sig.channels, sig.height, sig.width), spec, f"x {tuple(x.shape)} != signature")
    _check(x.dtype == torch.float32, spec, f"x dtype {x.dtype} != float32")
    for k, shape in sig.side.items():
        _check(k in drawn and tuple(drawn[k].shape) == tuple(shape), spec, f"side input '{k}' missing or not {shape}")
    again = rep.sample(loaded, train=True, generator=torch.Generator().manual_seed(3))["x"]
    _check(torch.equal(x, again), spec, "sample() is not deterministic for the same generator seed")
    e1 = rep.sample(loaded, train=False, generator=torch.Generator().manual_seed(1))["x"]
    e2 = rep.sample(loaded, train=False, generator=torch.Generator().manual_seed(2))["x"]
    _check(torch.equal(e1, e2), spec, "evaluation sampling must not depend on the generator")
    _check(isinstance(rep.cache_key(), str) and rep.cache_key(), spec, "cache_key() must be a non-empty string")
    return ["options", "shape", "dtype", "side", "determinism", "cache_key"]


def check_dataset(spec: ComponentSpec, root: Path | None, cache_dir: Path, **option_values: Any) -> list[str]:
    opts = build_options(spec.options, option_values) if option_values else check_options_round_trip(spec)
    manifest = spec.factory(opts, root, cache_dir).manifest()
    _check(isinstance(manifest, Manifest) and manifest.samples, spec, "manifest() must return a non-empty Manifest")
    k = manifest.num_classes
    _check(all(0 <= s.label < k for s in manifest.samples), spec, "labels out of range")
    _check(len({s.id for s in manifest.samples}) == len(manifest.samples), spec, "sample ids are not unique")
    return ["options", "manifest", "labels", "ids"]


def check_component(spec: ComponentSpec, **kwargs: Any) -> list[str]:
    """Run the checks of ``spec.kind``; extra keyword arguments go to the kind's checker."""
    checker = {
        "backbone": check_backbone,
        "aggregator": check_aggregator,
        "disentangler": check_disentangler,
        "selector": check_selector,
        "input": check_input,
        "dataset": check_dataset,
    }[spec.kind]
    return checker(spec, **kwargs)




def input_signatures(registry: Any) -> list[InputSignature]:
    """The default signature of every registered input that builds with its defaults (rgb first)."""
    sigs = []
    for spec in sorted(registry.components("input"), key=lambda s: s.name != "rgb"):
        try:
            sigs.append(spec.factory(spec.options()).signature)
        except Exception:  # noqa: BLE001 - an input that needs settings is skipped
            continue
    return sigs


def backbone_dims(registry: Any) -> list[int]:
    """The feature size D of every registered backbone (built with the first input signature it accepts)."""
    dims = []
    sigs = input_signatures(registry)
    for spec in registry.components("backbone"):
        for signature in sigs:
            try:
                dims.append(int(spec.factory(spec.options(), signature).out_dim))
                break
            except Exception:  # noqa: BLE001 - try the next signature
                continue
    return dims


def _builds(spec: ComponentSpec, signature: InputSignature) -> bool:
    opts = spec.options()
    try:
        if spec.kind == "backbone":
            net = spec.factory(opts, signature)
            return all(k in signature.side for k in net.side_inputs)
        spec.factory(opts, _context(signature))
        return True
    except Exception:  # noqa: BLE001 - not this signature
        return False


def check_registered(spec: ComponentSpec, registry: Any, sample: Sample | None = None) -> list[str]:
    """Run :func:`check_component` on a registered component, choosing what it needs from the registry.

    Backbones, disentanglers and selectors are checked with the first registered input's
    signature they build with (a backbone needing side inputs gets an input that provides them);
    aggregators with the first feature size (32, then each registered backbone's D) and frame
    count (6, 14, 35) they accept (eian needs a multiple of its clips, sna-fusion sna-multiscale's
    D); inputs on ``sample``. This is how the test suite checks every component of every
    installed plugin; plugin authors can call it the same way.

    Raises:
        ConformanceError: the component breaks its contract, or no registered input fits it.
    """
    if spec.kind == "input":
        if sample is None:
            raise ConformanceError(f"input '{spec.name}': give a sample (a media file it can read)")
        return check_component(spec, sample=sample)
    if spec.kind == "aggregator":
        errors = []
        for in_dim in dict.fromkeys([32, *backbone_dims(registry)]):
            for frames in (6, 14, 35):
                try:
                    return check_aggregator(spec, in_dim=in_dim, frames=frames)
                except Exception as err:  # noqa: BLE001 - try the next shape
                    errors.append(f"D={in_dim}, T={frames}: {err}")
        raise ConformanceError(f"aggregator '{spec.name}' fails for every feature size and frame count: {errors[0]}")
    if spec.kind in ("backbone", "disentangler", "selector"):
        for signature in input_signatures(registry):
            if _builds(spec, signature):
                return check_component(spec, signature=signature)
        raise ConformanceError(f"{spec.kind} '{spec.name}' builds with no registered input's signature")
    return check_component(spec)


__all__ = ["ConformanceError", "check_component", "check_registered", "input_signatures", "option_fields"]
