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
