"""Checkpoints in the safetensors format, written atomically; loading never unpickles.

A checkpoint holds ``layers.{i}.weight`` ([out, in]) and ``layers.{i}.bias`` tensors and,
in the header's ``__metadata__``, one key ``dltui`` with a JSON object: the resolved
preset, epoch, metrics, feature encoding (normalisation), backend. The format is the
public safetensors layout (8-byte little-endian header length, JSON header, raw bytes),
so ``safetensors.numpy.load_file`` and ``safetensors.torch.load_file`` read it too.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from .errors import CheckpointError

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 100 * 1024 * 1024


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def atomic_write(path: str | Path, data: bytes | str, fsync: bool = True) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``: readers see the old
    file or the new one, never half of one. The file gets the usual permissions (0666 less the umask)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def dumps_safetensors(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    header: dict = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in CODES:
            raise TypeError(f"cannot store {arr.dtype} in a checkpoint")
        b = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": CODES[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def loads_safetensors(raw: bytes, where: str = "checkpoint") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{where}: not a valid checkpoint ({why}). The file may be truncated or "
                               "not written by dltui; train again or pick another checkpoint.")

    if len(raw) < 8:
        raise bad("shorter than a header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER or 8 + n > len(raw):
        raise bad("header length out of range")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad("header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n:]
    tensors = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
            start, end = info["data_offsets"]
            shape = tuple(int(s) for s in info["shape"])
        except (KeyError, TypeError, ValueError):
            raise bad(f"tensor '{name}' is described wrongly") from None
        if not (0 <= start <= end <= len(data)) or end - start != dtype.itemsize * int(np.prod(shape)):
            raise bad(f"tensor '{name}' runs past the end of the file")
        tensors[name] = np.frombuffer(data[start:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    return tensors, meta


def save_checkpoint(path: str | Path, params: list[tuple[np.ndarray, np.ndarray]], meta: dict,
                    extra: dict[str, np.ndarray] | None = None) -> Path:
    """``extra``: more named tensors (a resumable checkpoint's optimizer state, ``optim.*``/``trainer.*``)."""
    tensors = dict(extra or {})
    for i, (W, b) in enumerate(params):
        tensors[f"layers.{i}.weight"] = np.asarray(W)
        tensors[f"layers.{i}.bias"] = np.asarray(b)
    atomic_write(path, dumps_safetensors(tensors, {"format": "dltui", "dltui": json.dumps(meta)}))
    return Path(path)


def load_checkpoint(path: str | Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict]:
    """(params, metadata) from a checkpoint; CheckpointError with a clear message if it is bad."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    tensors, meta = loads_safetensors(path.read_bytes(), str(path))
    try:
        info = json.loads(meta["dltui"])
    except (KeyError, json.JSONDecodeError, TypeError):
        raise CheckpointError(f"{path}: a safetensors file, but without dltui's metadata (preset, features); "
                              "it was not written by dltui.") from None
    params, i = [], 0
    while f"layers.{i}.weight" in tensors:
        if f"layers.{i}.bias" not in tensors:
            raise CheckpointError(f"{path}: layer {i} has weights but no bias.")
        params.append((tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"]))
        i += 1
    if not params:
        raise CheckpointError(f"{path}: holds no layers.")
    for (W1, _), (W2, _) in zip(params, params[1:]):
        if W1.shape[0] != W2.shape[1]:
            raise CheckpointError(f"{path}: layer shapes do not chain ({W1.shape} then {W2.shape}).")
    return params, info


def load_extra(path: str | Path, prefixes: tuple[str, ...] = ("optim.", "trainer.")) -> dict[str, np.ndarray]:
    """The extra named tensors of a checkpoint (optimizer state, the epoch's shuffle), by name."""
    tensors, _ = loads_safetensors(Path(path).read_bytes(), str(path))
    return {k: v for k, v in tensors.items() if k.startswith(prefixes)}
