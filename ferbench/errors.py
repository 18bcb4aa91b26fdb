"""User-facing errors.

Every error a user can meet (bad path, corrupt video, unknown component, bad
combination, missing weights) is a :class:`FerbenchError` whose message is one
line naming the problem and the fix. The CLI prints it without a traceback.
"""

from __future__ import annotations


class FerbenchError(Exception):
    """A problem the user can fix; ``str(err)`` is one line that says how."""


class UnknownComponentError(FerbenchError):
    """A component name that no installed plugin provides."""


class PluginClashError(FerbenchError):
    """Two plugins register the same (kind, name)."""


class IncompatibleCombinationError(FerbenchError):
    """Two components that cannot work together (raised before training)."""


class DatasetLayoutError(FerbenchError):
    """A dataset root that does not have the expected files."""


class VideoDecodeError(FerbenchError):
    """A video that is missing, empty, truncated or not decodable."""


class OptionError(FerbenchError):
    """A component or run option with an unknown key or a bad value."""


class ConfigError(OptionError):
    """A run configuration (file, flags or sweep spec) with an unknown key or a bad value."""


class DuplicateRecordError(FerbenchError):
    """A fold that already has an "ok" record for its config hash and seed."""


class CheckpointError(FerbenchError):
    """A checkpoint that is missing, truncated or not a ferbench checkpoint."""


class DiskSpaceError(FerbenchError):
    """A cache that would not fit on its disk (raised before it is written)."""


class SampleReadError(FerbenchError):
    """A sample whose media could not be read while it was drawn (loader workers, ``cache=none``).

    A DataLoader re-raises a worker's exception in the main process as
    ``type(err)(text)`` with the worker's traceback in ``text``; the message is
    cut back to the original line so the CLI still prints one line.
    """

    def __init__(self, message: str = "") -> None:
        lines = [line for line in str(message).splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].startswith("Caught "):
            last = lines[-1]
            marker = f"{type(self).__name__}: "
            message = last.split(marker, 1)[1] if marker in last else last
        super().__init__(message)
