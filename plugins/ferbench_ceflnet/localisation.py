"""Table 7 as a fold metric: how often the emotion-rich clip P_e (Eq. 6) is the clip that holds the apex.

The ground-truth clip of a test video is the clip whose input frames come closest
to the annotated apex frame (``Sample.apex``): the input reports the source frame
of each of its T frames (``Evaluation.frame_index``), and eian splits them into
clips exactly as it splits the features (filling T up to a multiple of the clip
count in temporal order when needed).
"""

from __future__ import annotations

import numpy as np
import torch

from ferbench.components import FoldReport
from ferbench.data.clip_sampling import clip_of_frame


def apex_clip_metrics(report: FoldReport, clips: int, frames_per_clip: int) -> dict[str, float]:
    """``pe_apex_hit``: % of test videos whose P_e is the apex clip; ``pe_apex_chance``: 100 / clips;
    ``pe_apex_majority``: % hit by always naming the fold's most common apex clip (a position prior).

    Empty when the input reports no frame indices, the aggregator has no EIAN, or no test video has an apex.
    """
    ev = report.evaluation
    if ev.frame_index is None or "emotion_clip" not in ev.extras:
        return {}
    truths, picks = [], []
    for row, position in enumerate(ev.indices):
        apex = report.manifest.samples[int(position)].apex
        if apex is None:
            continue
        idx = torch.as_tensor(ev.frame_index[row])
        t = idx.numel()
        per_clip = frames_per_clip or -(-t // clips)
        if per_clip * clips != t:  # eian's fill: nearest index in temporal order
            idx = idx[torch.linspace(0, t - 1, per_clip * clips).round().long()]
        truths.append(clip_of_frame(idx, clips, int(apex)))
        picks.append(int(ev.extras["emotion_clip"][row]))
    if not truths:
        return {}
    truths_a, picks_a = np.asarray(truths), np.asarray(picks)
    majority = np.bincount(truths_a, minlength=clips).max() / len(truths_a)
    return {"pe_apex_hit": 100.0 * float((truths_a == picks_a).mean()), "pe_apex_chance": 100.0 / clips,
            "pe_apex_majority": 100.0 * float(majority)}
