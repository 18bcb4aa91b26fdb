"""Where the repository is, for tests that read its files (docs, examples, plugin TOMLs)."""

from pathlib import Path

#: the repository root (this file is tests/repo.py)
ROOT = Path(__file__).resolve().parents[1]
