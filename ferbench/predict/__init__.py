"""Prediction on new media with a bundle: ``ferbench predict`` and ``ferbench.load(b).predict(path)``.

Modules: :mod:`.options` (what can be set), :mod:`.media` (files of a path,
chunked decoding), :mod:`.face_track` (MTCNN every k-th frame, tracked between,
aligned crops), :mod:`.windows` (sliding windows), :mod:`.predictor` (the
pipeline and batching), :mod:`.results` (per-file rows, the CSV),
:mod:`.timeline` (per-window CSV and plot).
"""
