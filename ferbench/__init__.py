"""ferbench: a plugin-based benchmark for video and image facial expression recognition."""

__version__ = "0.1.0"
