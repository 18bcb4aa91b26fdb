"""A bundle's files, in a folder or a zip: read by name, written atomically.

Only plain files are read, by the names ``model.json`` lists; nothing in a
bundle is executed or unpickled. Weights go through safetensors
(:func:`weights_to_bytes`, :func:`weights_from_bytes`).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import torch

from ..fileio import atomic_path
from .schema import BundleError

#: largest file read from a bundle (a guard against zip bombs and wrong paths), bytes
MAX_FILE_BYTES = 8 << 30


class BundleFiles:
    """Read access to the files of the bundle at ``path`` (a folder or a zip file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            self.zip = False
        elif self.path.is_file() and zipfile.is_zipfile(self.path):
            self.zip = True
        elif self.path.exists():
            raise BundleError(f"{self.path} is neither a bundle folder nor a bundle zip; pass what "
                              f"'ferbench export' wrote")
        else:
            raise BundleError(f"bundle not found: {self.path}; export one with 'ferbench export RUN --out NAME.ferbench'")

    def read(self, name: str) -> bytes:
        """The content of bundle file ``name`` (a plain name, no folders)."""
        if "/" in name or "\\" in name or name.startswith("."):
            raise BundleError(f"bundle {self.path}: refusing to read {name!r} (not a plain file name)")
        if not self.zip:
            file = self.path / name
            if not file.is_file():
                raise BundleError(f"bundle {self.path} has no {name}; re-export it")
            if file.stat().st_size > MAX_FILE_BYTES:
                raise BundleError(f"bundle {self.path}: {name} is larger than {MAX_FILE_BYTES >> 30} GiB; re-export it")
            return file.read_bytes()
        try:
            with zipfile.ZipFile(self.path) as z:
                try:
                    entry = z.getinfo(name)
                except KeyError:
                    raise BundleError(f"bundle {self.path} has no {name}; re-export it") from None
                if entry.file_size > MAX_FILE_BYTES:
                    raise BundleError(f"bundle {self.path}: {name} is larger than {MAX_FILE_BYTES >> 30} GiB; re-export it")
                return z.read(entry)
        except (zipfile.BadZipFile, OSError) as err:
            raise BundleError(f"bundle {self.path} cannot be read ({err}); re-export it") from None


def weights_to_bytes(state: dict[str, torch.Tensor], metadata: dict[str, str]) -> bytes:
    """A state dict as safetensors bytes (tensors copied: tied weights are stored once per name)."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    return save(tensors, metadata=metadata)


def weights_from_bytes(data: bytes, where: str) -> dict[str, torch.Tensor]:
    """Tensors of safetensors bytes; anything else (a pickle, a torn file) is one :class:`BundleError` line."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        return load(data)
    except (SafetensorError, ValueError, RuntimeError, OSError) as err:
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise BundleError(f"{where} is not a safetensors file ({reason}); bundles hold safetensors weights only, "
                          f"re-export it") from None


def write_bundle(files: dict[str, bytes | Path], out: Path, *, as_zip: bool) -> Path:
    """Write ``files`` (name -> bytes, or a file to copy) as the bundle ``out``; appears only when complete."""
    out = Path(out).expanduser()
    if as_zip:
        with atomic_path(out) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
                for name, content in files.items():
                    if isinstance(content, Path):
                        z.write(content, name)
                    else:
                        z.writestr(name, content)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, content in files.items():
            if isinstance(content, Path):
                shutil.copyfile(content, tmp / name)
            else:
                (tmp / name).write_bytes(content)
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
