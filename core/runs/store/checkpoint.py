"""Checkpoints in the safetensors format, written atomically; loading never unpickles.

A checkpoint holds ``layers.{i}.weight`` ([out, in]) and ``layers.{i}.bias`` tensors and,
in the header's ``__metadata__``, one key ``dltui`` with a JSON object: the resolved
preset, epoch, metrics, feature encoding (normalisation), backend. The format is the
public safetensors layout (8-byte little-endian header length, JSON header, raw bytes),
so ``safetensors.numpy.load_file`` and ``safetensors.torch.load_file`` read it too.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import tempfile
from pathlib import Path

import numpy as np

from ...errors import CheckpointError

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 64 * 1024 * 1024  # bytes of JSON header
MAX_DATA = 512 * 1024**2  # bytes of tensor data: 50M parameters (limits.MAX_PARAMS) in float64 is 400 MB


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def atomic_write(path: str | Path, data: bytes | str, fsync: bool = True) -> None:
    """Write to a temp file in the same folder, fsync, then rename over ``path``: readers see the old
    file or the new one, never half of one. The file gets the usual permissions (0666 less the umask).

    What is already at ``path`` decides how: a symlink is followed on purpose (the link stays and its
    target gets the new content, as ``>`` in a shell does); a device node or a named pipe
    (``/dev/null``, ``/dev/full``, a FIFO) is written in place, never replaced by a regular file; a
    folder is refused."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(target, "wb", buffering=0) as fh:  # a device or a pipe: no rename over it
            fh.write(raw)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, target)
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


def _bad(where: str, why: str) -> CheckpointError:
    return CheckpointError(f"{where}: not a valid checkpoint ({why}). The file may be truncated or "
                           "not written by dltui; train again or pick another checkpoint.")


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_header(hbytes: bytes, data_size: int, where: str) -> tuple[dict, dict[str, str]]:
    """Check a safetensors header before any byte of data is used: every tensor's dtype, shape
    (non-negative whole numbers, product in Python ints so it cannot wrap) and offsets (whole numbers
    inside the data, matching the shape). Returns ({name: (dtype, shape, start, end)}, metadata)."""
    try:
        header = json.loads(hbytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(where, "header is not JSON") from None
    if not isinstance(header, dict):
        raise _bad(where, "header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise _bad(where, "its __metadata__ is not a table of strings")
    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") not in DTYPES:
            raise _bad(where, f"tensor '{name}' has no dtype dltui reads ({', '.join(DTYPES)})")
        shape, offs = info.get("shape"), info.get("data_offsets")
        if not (isinstance(shape, list) and len(shape) <= 8 and all(_int(n) and n >= 0 for n in shape)):
            raise _bad(where, f"tensor '{name}' has a bad shape")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_int(o) for o in offs)):
            raise _bad(where, f"tensor '{name}' has bad data offsets")
        dtype = np.dtype(DTYPES[info["dtype"]])
        start, end = offs
        if not 0 <= start <= end <= data_size:
            raise _bad(where, f"tensor '{name}' runs past the end of the file")
        if end - start != dtype.itemsize * math.prod(shape):
            raise _bad(where, f"tensor '{name}' has {end - start} bytes, not what its shape {shape} needs")
        entries[name] = (dtype, tuple(shape), start, end)
    return entries, meta


def _tensors(entries: dict, data, where: str) -> dict[str, np.ndarray]:
    out = {}
    for name, (dtype, shape, start, end) in entries.items():
        le = dtype.newbyteorder("<")
        out[name] = np.frombuffer(data[start:end], dtype=le).reshape(shape).astype(dtype)
    return out


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a checkpoint file: the 8-byte header length is checked against MAX_HEADER and the file
    size, and the header against the data, before the data is read; only the bytes the tensors
    name are read (a 6 GB junk file costs 8 bytes)."""
    where = str(path)
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{where}: not a regular file.")
        head = fh.read(8)
        if len(head) < 8:
            raise _bad(where, "shorter than a header")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER or 8 + n > st.st_size:
            raise _bad(where, "header length out of range")
        entries, meta = parse_header(fh.read(n), st.st_size - 8 - n, where)
        need = max((e[3] for e in entries.values()), default=0)
        if need > MAX_DATA:
            raise _bad(where, f"its tensors hold {need / 2**30:.1f} GiB, more than dltui's limit of "
                              f"{MAX_DATA / 2**30:.0f} GiB")
        data = fh.read(need)
    if len(data) < need:
        raise _bad(where, "the file shrank while it was read")
    return _tensors(entries, memoryview(data), where), meta


def save_checkpoint(path: str | Path, params: list[tuple[np.ndarray, np.ndarray]], meta: dict,
                    extra: dict[str, np.ndarray] | None = None) -> Path:
    """``extra``: more named tensors (a resumable checkpoint's optimizer state, ``optim.*``/``trainer.*``)."""
    tensors = dict(extra or {})
    for i, (W, b) in enumerate(params):
        tensors[f"layers.{i}.weight"] = np.asarray(W)
        tensors[f"layers.{i}.bias"] = np.asarray(b)
    atomic_write(path, dumps_safetensors(tensors, {"format": "dltui", "dltui": json.dumps(meta)}))
    return Path(path)


Params = list[tuple[np.ndarray, np.ndarray]]


EXTRA = ("optim.", "trainer.")  # the names of the tensors a resumable checkpoint holds beside the weights


def load_checkpoint(path: str | Path, require: tuple[str, ...] = ()) -> tuple[Params, dict]:
    """(params, metadata) from a checkpoint; CheckpointError with a clear message if it is bad.
    The tensors and every metadata field present are checked (``check_meta``); ``require`` names the
    fields that must be there (``RUN_KEYS`` for predict, trace and watch)."""
    params, info, _ = load_checkpoint_extra(path, require)
    return params, info


def load_checkpoint_extra(path: str | Path, require: tuple[str, ...] = ()) -> tuple[Params, dict, dict]:
    """``load_checkpoint`` and the extra tensors (``EXTRA``: optimizer state, the epoch's shuffle) by name,
    from one read of the file (resume)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    tensors, meta = read_safetensors(path)
    try:
        info = json.loads(meta["dltui"])
    except (KeyError, ValueError, TypeError, RecursionError):
        raise CheckpointError(f"{path}: a safetensors file, but without dltui's metadata (preset, features); "
                              "it was not written by dltui.") from None
    params = _layers(tensors, str(path))
    check_meta(info, params, str(path), require)
    return params, info, {k: v for k, v in tensors.items() if k.startswith(EXTRA)}


def _layers(tensors: dict[str, np.ndarray], where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    params, i = [], 0
    while f"layers.{i}.weight" in tensors:
        if f"layers.{i}.bias" not in tensors:
            raise CheckpointError(f"{where}: layer {i} has weights but no bias.")
        W, b = tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"]
        if W.ndim != 2 or b.ndim != 1 or b.shape[0] != W.shape[0] or W.dtype.kind != "f" or b.dtype.kind != "f":
            raise CheckpointError(f"{where}: layer {i} is not a [out, in] float weight matrix with an [out] bias "
                                  f"(weights {W.dtype} {W.shape}, bias {b.dtype} {b.shape}).")
        if 0 in W.shape:
            raise CheckpointError(f"{where}: layer {i} has an empty weight matrix {W.shape}.")
        params.append((W, b))
        i += 1
    if not params:
        raise CheckpointError(f"{where}: holds no layers.")
    for (W1, _), (W2, _) in zip(params, params[1:]):
        if W1.shape[0] != W2.shape[1]:
            raise CheckpointError(f"{where}: layer shapes do not chain ({W1.shape} then {W2.shape}).")
    return params


# ---------------------------------------------------------------- the metadata schema

RUN_KEYS = ("preset", "epoch", "task", "layer_sizes", "features")  # what predict, trace and watch use
TASKS = ("regression", "classification")


def _ints(v, lo: int = 0) -> bool:
    return isinstance(v, list) and all(_int(n) and n >= lo for n in v)


def _strs(v) -> bool:
    return isinstance(v, list) and all(isinstance(n, str) for n in v)


def _finite(v, n: int) -> bool:
    return (isinstance(v, list) and len(v) == n
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v))


META_TYPES = {
    "preset": (dict, "a table"), "preset_name": (str, "a string"), "epoch": (_int, "a whole number >= 0"),
    "metrics": (dict, "a table"), "features": (dict, "a table"), "task": (TASKS.__contains__, " or ".join(TASKS)),
    "n_outputs": (_int, "a whole number"), "layer_sizes": (lambda v: _ints(v, 1) and len(v) >= 2,
                                                           "a list of two or more sizes >= 1"),
    "activations": (_strs, "a list of names"), "backend": (str, "a string"), "dtype": (str, "a string"),
}


def check_meta(info, params: list[tuple[np.ndarray, np.ndarray]], where: str, require: tuple[str, ...] = ()) -> None:
    """Every field present has the right type; ``require``d fields are there; layer sizes, output count,
    features and their normalisation fit the weights. CheckpointError naming the field otherwise."""
    def bad(field: str, why: str) -> CheckpointError:
        return CheckpointError(f"{where}: its metadata field '{field}' {why}; the checkpoint is damaged or was "
                               "not written by this dltui. Train again or pick another checkpoint.")

    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: its dltui metadata is not a JSON object.")
    for key in require:
        if key not in info:
            raise bad(key, "is missing")
    for key, (ok, what) in META_TYPES.items():
        if key in info:
            good = isinstance(info[key], ok) if isinstance(ok, type) else ok(info[key])
            if not good or (key == "epoch" and info[key] < 0):
                raise bad(key, f"is {_short(info[key])}, not {what}")
    n_in, n_out = params[0][0].shape[1], params[-1][0].shape[0]
    if "layer_sizes" in info and info["layer_sizes"] != [n_in] + [W.shape[0] for W, _ in params]:
        raise bad("layer_sizes", f"= {_short(info['layer_sizes'])} does not match the weights")
    if "n_outputs" in info and info["n_outputs"] != n_out:
        raise bad("n_outputs", f"= {info['n_outputs']} does not match the output layer ({n_out})")
    if "features" in info:
        _check_features(info["features"], n_in, bad)


def _check_features(f: dict, n_in: int, bad) -> None:
    names = f.get("names")
    if not _strs(names) or len(names) != n_in:
        raise bad("features", f"has names {_short(names)}, not {n_in} column names")
    cols = f.get("columns")
    if cols is not None and not (isinstance(cols, list) and len(cols) == n_in and all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) and _int(c[1]) and c[1] >= 0
            for c in cols)):
        raise bad("features", f"has columns {_short(cols)}, not {n_in} [name, occurrence] pairs")
    inputs = f.get("inputs")
    if inputs is not None:
        from ...data.dataset import PLAYGROUND_INPUTS

        if not _strs(inputs) or len(inputs) != n_in or not set(inputs) <= set(PLAYGROUND_INPUTS):
            raise bad("features", f"has inputs {_short(inputs)}, not {n_in} of {', '.join(PLAYGROUND_INPUTS)}")
    for k in ("mean", "std"):
        v = f.get(k)
        if v is not None and not _finite(v, n_in):
            raise bad("features", f"has a {k} of {_short(v)}, not {n_in} finite numbers")
    if (f.get("mean") is None) != (f.get("std") is None):
        raise bad("features", "has a mean without a std, or a std without a mean")
    if f.get("std") is not None and min(f["std"]) <= 0:
        raise bad("features", "has a std <= 0 (a division by zero when encoding)")
    for k in ("target", "id_column"):
        if k in f and not isinstance(f[k], str):
            raise bad("features", f"has a {k} of {_short(f[k])}, not a column name")


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def load_extra(path: str | Path, prefixes: tuple[str, ...] = EXTRA) -> dict[str, np.ndarray]:
    """The extra named tensors of a checkpoint (a resumable run's optimizer state and the epoch's shuffle),
    by name; read through the same checks as the weights."""
    tensors, _ = read_safetensors(path)
    return {k: v for k, v in tensors.items() if k.startswith(prefixes)}
