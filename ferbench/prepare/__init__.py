"""``ferbench prepare``: face tracks of a real dataset, aligned, cropped and re-encoded once.

Modules: :mod:`.faces` (MTCNN detection per frame), :mod:`.tracker` (which
detection is the clip's face: overlap-only tracks, streaming), :mod:`.cleanup`
(short-gap filling and temporal smoothing), :mod:`.align` (eye alignment and
square crop), :mod:`.encode` (H.264 I+P with a fixed GOP), :mod:`.pipeline`
(parallel, resumable driver with a failure report), :mod:`.store` (the
prepared folder, its checked markers, and how adapters read it).
"""
