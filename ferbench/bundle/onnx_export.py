"""Optional ONNX graphs of a bundle's fold models (``ferbench export --onnx``).

The model is traced (TorchScript exporter) from ``x`` [B, T, C, H, W] plus the
side tensors its backbone reads to ``logits`` [B, K], with a dynamic batch
axis. Every graph is checked with onnxruntime against the PyTorch model on a
random batch before it goes into the bundle. A combination that does not
trace is one :class:`~.schema.BundleError` line. Needs the ``onnx`` extra
(``pip install ferbench[onnx]``: onnx and onnxruntime).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..components import InputSignature
from ..engine.assemble import FERModel
from .schema import BundleError

#: largest |logit difference| accepted between onnxruntime and PyTorch
TOLERANCE = 1e-3
OPSET = 17


class LogitsOnly(nn.Module):
    """``forward(x, *side) -> logits``: the traceable face of a :class:`FERModel`."""

    def __init__(self, model: FERModel, side_names: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.side_names = model, side_names

    def forward(self, x: torch.Tensor, *side: torch.Tensor) -> torch.Tensor:
        return self.model(x, dict(zip(self.side_names, side))).logits


def example_inputs(signature: InputSignature, side_names: tuple[str, ...], batch: int,
                   seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random inputs shaped like a batch of ``signature`` (x first, then the named side tensors)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, signature.frames, signature.channels, signature.height, signature.width, generator=gen)
    return (x, *(torch.randn(batch, *signature.side[n], generator=gen) for n in side_names))


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise BundleError("--onnx needs onnx and onnxruntime; pip install 'ferbench[onnx]'") from None


def export_onnx(model: FERModel, signature: InputSignature, path: Path, combination: str) -> float:
    """Trace ``model`` to ``path`` and check it with onnxruntime; returns the largest |logit difference|.

    Raises:
        BundleError: the combination does not trace, or onnxruntime disagrees with PyTorch.
    """
    _require_onnx()
    import onnxruntime as ort

    side_names = tuple(model.backbone.side_inputs)
    wrapper = LogitsOnly(model, side_names).eval()
    names = ["x", *side_names]
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is what traces
            torch.onnx.export(wrapper, example_inputs(signature, side_names, 2), str(path), input_names=names,
                              output_names=["logits"], dynamic_axes={n: {0: "batch"} for n in [*names, "logits"]},
                              opset_version=OPSET, dynamo=False)
    except Exception as err:  # noqa: BLE001 - whatever the tracer meets, the answer is "this one does not trace"
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise BundleError(f"combination {combination} cannot be exported to ONNX ({type(err).__name__}: {reason}); "
                          f"export without --onnx") from None
    inputs = example_inputs(signature, side_names, 3, seed=1)
    with torch.no_grad():
        expected = wrapper(*inputs).float().numpy()
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(["logits"], {n: t.numpy() for n, t in zip(names, inputs)})[0]
        diff = float(np.abs(got - expected).max())
    except Exception as err:  # noqa: BLE001 - a graph onnxruntime cannot run on new inputs did not trace right
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise BundleError(f"combination {combination}: the traced ONNX graph does not run on a new batch ({reason}); "
                          f"it cannot be exported to ONNX, export without --onnx") from None
    if not diff <= TOLERANCE:
        raise BundleError(f"combination {combination}: the ONNX graph's logits differ from PyTorch's by {diff:.2g} "
                          f"(> {TOLERANCE}); export without --onnx")
    return diff
