"""Resource limits, checked before anything is allocated: a message names the value and the memory
it would take. Used by the preset validation (``spec``) and data loading (``data``)."""

from __future__ import annotations

from pathlib import Path


def _err(text: str):
    from ..errors import SpecError

    return SpecError(text)


MAX_PRESET_BYTES = 1024 * 1024
MAX_NESTING = 32  # brackets inside brackets in a --set value


def read_preset_text(path: Path) -> str:
    """The preset's text, refusing files that cannot be a preset (a device, a huge file) before reading."""
    try:
        size = path.stat().st_size
        regular = path.is_file()
    except OSError as e:
        raise _err(f"{path}: cannot be read ({e.strerror or e}).") from None
    if not regular or size > MAX_PRESET_BYTES:
        what = "not a regular file" if not regular else f"{size / 2**20:.1f} MiB"
        raise _err(f"{path}: {what}; a preset is a TOML text file of at most "
                   f"{MAX_PRESET_BYTES // 1024} KiB.")
    return path.read_text(encoding="utf-8")


def read_preset_toml(path: Path) -> dict:
    """A preset file's TOML as a dict (a bounded read); a SpecError naming the file otherwise."""
    from .tomlread import tomllib

    try:
        return tomllib.loads(read_preset_text(path))
    except UnicodeDecodeError:
        raise _err(f"{path}: not a text file (expected a TOML preset).") from None
    except tomllib.TOMLDecodeError as e:
        raise _err(f"{path}: not valid TOML: {e}.") from None
    except RecursionError:
        raise _err(f"{path}: nests brackets or tables too deeply to read.") from None


def _nesting(text: str) -> int:
    depth = most = 0
    for c in text:
        if c in "[{":
            depth += 1
            most = max(most, depth)
        elif c in "]}":
            depth -= 1
    return most


def check_nesting(key: str, text: str) -> None:
    if _nesting(text) > MAX_NESTING:
        raise _err(f"--set {key}=...: the value nests {_nesting(text)} brackets inside each other; "
                   f"at most {MAX_NESTING} are read (a preset value is at most a list of lists).")


MAX_PARAMS = 50_000_000  # weights and biases of one network
MAX_CLASSES = 100_000
MAX_LAYERS = 1000
ITEMSIZE = {"float32": 4, "float64": 8}


def check_model_size(hidden: list[int], n_in: int | None, n_out: int | None, source: str,
                     dtype: str = "float32") -> None:
    """Refuse a network too large to hold before anything is allocated; the message names the sizes
    and the memory they would take (weights, gradients and two optimizer moments: 4 copies)."""
    if n_out is not None and n_out > MAX_CLASSES:
        gib = 4 * n_out * ((hidden or [n_in or 1])[-1] + 1) * ITEMSIZE.get(dtype, 8) / 2**30
        raise _err(f"{source}: the data asks for {n_out:,} outputs (class labels up to {n_out - 1:,}): an "
                   f"output layer of ~{gib:,.1f} GiB. dltui allows at most {MAX_CLASSES:,} classes; "
                   "labels must be 0..K-1.")
    if len(hidden) > MAX_LAYERS:
        raise _err(f"{source}: [model] hidden has {len(hidden):,} layers; dltui allows at most {MAX_LAYERS}.")
    sizes = ([n_in] if n_in else []) + list(hidden) + ([n_out] if n_out else [])
    n = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    if n > MAX_PARAMS:
        gib = 4 * n * ITEMSIZE.get(dtype, 8) / 2**30
        where = "the network" if n_in else "the hidden layers alone"
        raise _err(f"{source}: [model] hidden = {_short(hidden)} gives {where} {n:,} parameters: ~{gib:,.1f} GiB "
                   f"in {dtype} with gradients and optimizer state. dltui allows at most {MAX_PARAMS:,} "
                   "parameters; use smaller layers.")


def _short(v) -> str:
    text = repr(list(v))
    return text if len(text) <= 60 else text[:57] + "...]"


MAX_ABS = {"float32": 1.8e16, "float64": 1.3e151}  # sqrt(largest) / 1e3: squares (MSE) stay finite


def check_magnitude(arrays: dict[str, object], names: list[str] | None, source: str, dtype: str) -> None:
    """Inputs or targets so large that the first loss overflows would look like divergence ("try a smaller
    learning rate"): name the value instead. ``arrays``: {"feature": x, "target": y}."""
    import numpy as np

    limit = MAX_ABS.get(dtype, MAX_ABS["float64"])
    for role, a in arrays.items():
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        big = ~(np.abs(a) <= limit)
        if big.any():
            i = tuple(np.argwhere(big)[0])
            col = f" '{names[i[1]]}'" if role == "feature" and names and a.ndim == 2 and i[1] < len(names) else ""
            raise _err(f"{source}: a {role}{col} holds {a[i]:.4g}, too large to train on in {dtype} (|value| must "
                       f"stay below {limit:.2g}, or the loss overflows). Scale the data down, or use "
                       "normalize = true for features.")
