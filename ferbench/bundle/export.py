"""``ferbench export``: a recorded run's fold model(s) as a bundle (safetensors + model.json).

The run is rebuilt from its record (:func:`~ferbench.engine.config.config_dict_from_record`)
through the public :class:`~ferbench.engine.runner.Runner`, whose config hash must
match the record's (the installed components would otherwise describe another
model). Each fold's scored checkpoint is loaded with ``weights_only=True``, put
into a model built from the bundle's own description (the way loading builds
it, so every bundle written also loads), and stored as safetensors.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .. import __version__
from ..engine.config import config_dict_from_record, config_from_dict
from ..engine.plan import versions
from ..engine.runner import Runner
from ..engine.trainer import load_checkpoint
from ..errors import FerbenchError
from ..kinds import KINDS
from ..paths import default_cache_dir, default_output_dir
from ..plugins import Registry
from ..results import utc_now_iso
from .build import build_runtime
from .preprocessing import preprocessing_of
from .runs import find_run
from .schema import MODEL_JSON, BundledComponent, BundledFold, BundleError, BundleInfo
from .storage import weights_to_bytes, write_bundle


@dataclasses.dataclass
class ExportResult:
    """What :func:`export_bundle` wrote.

    Attributes:
        path: the bundle.
        info: its ``model.json``.
        onnx_max_diff: per fold, the largest |logit difference| onnxruntime vs PyTorch (``--onnx``).
    """

    path: Path
    info: BundleInfo
    onnx_max_diff: dict[int, float] = dataclasses.field(default_factory=dict)


def _numbers(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def export_bundle(
    run: str,
    out: str | Path,
    *,
    folds: Sequence[int] | None = None,
    all_folds: bool = False,
    onnx: bool = False,
    as_zip: bool | None = None,
    force: bool = False,
    output_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    registry: Registry | None = None,
    log: Callable[[str], None] = print,
) -> ExportResult:
    """Export a recorded run as a bundle.

    Args:
        run: a config hash, a run folder or a leaderboard row id (see :func:`~.runs.find_run`).
        out: the bundle to write (a folder; a zip when ``as_zip`` or the name ends in ``.zip``).
        folds: the folds to bundle; default: the lowest recorded fold.
        all_folds: bundle every recorded fold (prediction averages their probabilities).
        onnx: also write each fold's model as ONNX, checked with onnxruntime.
        force: replace an existing ``out``.
        output_dir: where the run's ``results.sqlite`` lives (default ``$FERBENCH_OUTPUT`` or ``ferbench-out``).
        cache_dir: the dataset cache (the run's manifest gives the class names and face framing).

    Raises:
        FerbenchError: unknown run, missing folds or checkpoints, a changed config hash, an existing ``out``.
    """
    out = Path(out).expanduser()
    as_zip = out.suffix == ".zip" if as_zip is None else as_zip
    if out.exists() and not force:
        raise FerbenchError(f"{out} exists; choose another --out or pass --force to replace it")
    registry = registry if registry is not None else Registry()
    recorded = find_run(run, output_dir or default_output_dir(), log)
    available = sorted(recorded.records)
    if all_folds:
        chosen = available
    elif folds:
        missing = [f for f in folds if f not in recorded.records]
        if missing:
            raise FerbenchError(f"config {recorded.config_hash} has no recorded fold {missing[0]} (recorded: "
                                f"{', '.join(map(str, available))}); choose one of them")
        chosen = sorted(set(folds))
    else:
        chosen = available[:1]
    first = recorded.records[chosen[0]]
    layer = {**config_dict_from_record(first.config), "output_dir": str(recorded.output_dir),
             "cache_dir": str(cache_dir or default_cache_dir())}
    layer.pop("folds", None)
    runner = Runner(config_from_dict(layer, registry, where=f"the record of config {recorded.config_hash}"), registry,
                    log=log, progress=False)
    if runner.config_hash != recorded.config_hash:
        raise FerbenchError(f"the installed components describe config {recorded.config_hash} as {runner.config_hash} "
                            f"(a component's options or defaults changed since it was trained); export it with the "
                            f"ferbench and plugin versions in its record")
    resolved = runner.resolved
    options = resolved.options_dict()
    components = {}
    for kind in KINDS:
        spec = resolved.specs[kind]
        plugin = registry.plugins.get(spec.plugin)
        components[kind] = BundledComponent(kind, spec.name, spec.plugin, plugin.version if plugin else "", options[kind])
    info = BundleInfo(
        config_hash=recorded.config_hash, combination=runner.combination, setup=runner.config.setup,
        seed=runner.config.seed, dataset=runner.dataset_label, protocol=first.protocol,
        classes=list(runner.manifest.classes), components=components,
        preprocessing=preprocessing_of(runner.manifest, resolved.options["dataset"]),
        folds=[BundledFold(f, f"fold{f}.safetensors", _numbers(recorded.records[f].metrics),
                           recorded.records[f].selection, f"fold{f}.onnx" if onnx else "") for f in chosen],
        versions={**versions(registry), "ferbench": __version__}, created_at=utc_now_iso(),
    )
    result = ExportResult(out, info)
    files: dict[str, bytes | Path] = {MODEL_JSON: info.to_json().encode()}
    with tempfile.TemporaryDirectory(prefix="ferbench-export-") as tmp:
        for fold in info.folds:
            rep, model = build_runtime(info, registry, f"bundle {out}")
            state = load_checkpoint(runner.checkpoint_path(fold.fold), "cpu")
            try:
                model.load_state_dict(state["model"], strict=True)
            except RuntimeError as err:
                raise BundleError(f"checkpoint {runner.checkpoint_path(fold.fold)} does not fit the {info.combination} "
                                  f"model ({str(err).splitlines()[0][:120]}); retrain the fold") from None
            files[fold.weights] = weights_to_bytes(model.state_dict(), {"config_hash": info.config_hash,
                                                                        "fold": str(fold.fold)})
            if onnx:
                from .onnx_export import export_onnx

                path = Path(tmp) / fold.onnx
                result.onnx_max_diff[fold.fold] = export_onnx(model.eval(), rep.signature, path, info.combination)
                files[fold.onnx] = path
            log(f"fold {fold.fold}: {fold.selection} checkpoint, test WAR {fold.metrics.get('war', float('nan')):.2f}")
        write_bundle(files, out, as_zip=as_zip)
    return result
