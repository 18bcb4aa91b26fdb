"""``ferbench export``, ``ferbench predict`` and ``ferbench evaluate``: use a trained model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import FerbenchError
from ..options import parse_key_values
from ..paths import default_cache_dir, default_output_dir


def cmd_export(args: argparse.Namespace) -> int:
    from ..bundle.export import export_bundle
    from .components import registry

    folds = [args.fold] if args.fold is not None else None
    result = export_bundle(args.run, args.out, folds=folds, all_folds=args.all_folds, onnx=args.onnx,
                           as_zip=True if args.zip else None, force=args.force, output_dir=args.output_dir,
                           cache_dir=args.cache_dir, registry=registry())
    info = result.info
    onnx = "".join(f"; fold {f} ONNX checked with onnxruntime (max |logit diff| {d:.1e})"
                   for f, d in result.onnx_max_diff.items())
    print(f"wrote {result.path}: {info.combination} trained on {info.dataset} ({info.protocol}), "
          f"folds {','.join(str(f.fold) for f in info.folds)}, {len(info.classes)} classes{onnx}")
    return 0


def _timeline_dir(args: argparse.Namespace) -> Path:
    if args.timeline_dir:
        return Path(args.timeline_dir)
    out = Path(args.out)
    return out.with_name(out.stem + "-timeline")


def cmd_predict(args: argparse.Namespace) -> int:
    from ..bundle.load import load_bundle
    from ..fileio import csv_text
    from ..predict.options import PredictOptions
    from ..predict.predictor import Predictor
    from ..predict.results import csv_header, write_predictions_csv
    from ..predict.timeline import plot_timeline, write_timeline_csv
    from ..predict.media import is_image
    from ..options import build_options
    from .components import registry

    values = parse_key_values(args.predict_opt or [], flag="--predict-opt")
    for name in ("faces", "detect_every", "window", "stride", "batch_size"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    options = build_options(PredictOptions, {**values, "timeline": args.timeline,
                                             "progress": not args.no_progress and sys.stderr.isatty()},
                            owner="predict")
    bundle = load_bundle(args.bundle, registry=registry(), device=args.device)
    predictions = Predictor(bundle, options).predict(args.paths)
    if not predictions:
        raise FerbenchError(f"no video or image found in {' '.join(args.paths)}; pass files or folders of them")
    write_predictions_csv(args.out, predictions, bundle.classes)
    counts = {s: sum(p.status == s for p in predictions) for s in ("ok", "no face", "unreadable")}
    print(f"wrote {args.out}: {len(predictions)} files ({counts['ok']} ok, {counts['no face']} no face, "
          f"{counts['unreadable']} unreadable)")
    if args.timeline:
        folder = _timeline_dir(args)
        stems: dict[str, int] = {}
        for p in predictions:
            if not p.windows or is_image(p.path):
                continue
            stem = p.path.stem
            stems[stem] = stems.get(stem, 0) + 1
            name = stem if stems[stem] == 1 else f"{stem}-{stems[stem]}"
            write_timeline_csv(folder / f"{name}.csv", p, bundle.classes)
            plot_timeline(folder / f"{name}.png", p, bundle.classes)
        print(f"timelines (per-window CSV and PNG): {folder}")
    if args.print:
        print(csv_text(csv_header(bundle.classes), ([str(p.path), p.status, p.label, *(
            f"{p.probabilities[c]:.3f}" if p.probabilities else "" for c in bundle.classes), p.face_frames, p.frames,
            p.error] for p in predictions)), end="")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..bundle.load import load_bundle
    from ..cross_dataset import evaluate_cross_dataset
    from .components import registry

    reg = registry()
    bundle = load_bundle(args.bundle, registry=reg, device=args.device)
    result = evaluate_cross_dataset(
        bundle, args.dataset, dataset_options=parse_key_values(args.dataset_opt or [], flag="--dataset-opt"),
        root=args.root, fold=args.fold, split=args.split, cache_dir=args.cache_dir or default_cache_dir(),
        output_dir=args.output_dir or default_output_dir(), registry=reg, force=args.force,
    )
    m, rec, match = result.record.metrics, result.record, result.match
    print(f"{rec.protocol}: {rec.combination}")
    print(f"classes scored: {', '.join(match.shared)}")
    if match.source_only:
        print(f"model classes the target lacks (dropped from its output): {', '.join(match.source_only)}")
    if match.target_only:
        print(f"target classes the model lacks (their {m['n_left_out_classes']} samples are not scored): "
              f"{', '.join(match.target_only)}")
    if result.failures:
        print(f"{len(result.failures)} unreadable samples left out (listed in {result.out_dir / 'classes.json'})")
    print(f"WAR {m['war']:.2f}  UAR {m['uar']:.2f}  macro-F1 {m['macro_f1']:.2f}  on {m['n_scored']} samples")
    print(f"record {rec.config_hash} in {Path(args.output_dir or default_output_dir()) / 'results.sqlite'}; "
          f"predictions and confusion matrix: {result.out_dir}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="write a trained run's model as a bundle (safetensors + model.json)")
    p.add_argument("run", metavar="RUN", help="config hash, run folder (<output>/runs/<hash>) or leaderboard row id")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--fold", type=int, help="the fold to export (default: the lowest recorded)")
    which.add_argument("--all-folds", action="store_true", help="keep every recorded fold; prediction averages them")
    p.add_argument("--out", required=True, help="the bundle: NAME.ferbench (a folder) or NAME.zip")
    p.add_argument("--zip", action="store_true", help="write a zip file whatever the name")
    p.add_argument("--onnx", action="store_true", help="also write ONNX graphs, checked with onnxruntime")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--output-dir", help="where the run's results.sqlite lives (default $FERBENCH_OUTPUT or ferbench-out)")
    p.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("predict", help="predict the expression of videos and images with a bundle")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("paths", metavar="PATH", nargs="+", help="video files, images or folders of them")
    p.add_argument("--out", default="predictions.csv", help="CSV with one row per file (default predictions.csv)")
    p.add_argument("--timeline", action="store_true", help="per-window probabilities of each video: CSV and PNG")
    p.add_argument("--timeline-dir", help="where timelines go (default <out stem>-timeline/)")
    p.add_argument("--faces", choices=("detect", "given"), help="detect faces (default) or take the media as face crops")
    p.add_argument("--detect-every", type=int, dest="detect_every", help="run MTCNN on every k-th frame (default 10)")
    p.add_argument("--window", type=int, help="frames per window (default: the training clips' median length)")
    p.add_argument("--stride", type=int, help="frames between window starts (default: the window; smaller overlaps them)")
    p.add_argument("--batch-size", type=int, dest="batch_size", help="windows per forward pass (default 16)")
    p.add_argument("--predict-opt", action="append", metavar="KEY=VALUE", help="any predict option (repeatable; "
                   "see docs/using-trained-models.md)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1, ...")
    p.add_argument("--print", action="store_true", help="also print the rows")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="cross-dataset evaluation of a bundle on another dataset")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("--dataset", required=True, help="the target dataset")
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE", help="target dataset option (repeatable)")
    p.add_argument("--root", help="target dataset root (real datasets)")
    subset = p.add_mutually_exclusive_group()
    subset.add_argument("--fold", type=int, help="score the test split of this target fold (default: the whole dataset)")
    subset.add_argument("--split", choices=("train", "val", "test"), help="score this official split")
    p.add_argument("--force", action="store_true", help="replace an existing record of the same evaluation")
    p.add_argument("--device", default="auto")
    p.add_argument("--output-dir", help="results database and evaluation folders (default $FERBENCH_OUTPUT or ferbench-out)")
    p.add_argument("--cache-dir", help="cache folder (default $FERBENCH_CACHE or ~/.cache/ferbench)")
    p.set_defaults(func=cmd_evaluate)
