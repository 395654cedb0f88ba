"""Backends: ``make_backend(name, spec, n_in, n_out)``. torch is imported only when chosen."""

from __future__ import annotations

from ..errors import BackendError
from .base import Backend


def make_backend(name: str, spec, n_in: int, n_out: int, params=None, device: str | None = None) -> Backend:
    if name == "numpy":
        if device not in (None, "auto", "cpu"):
            raise BackendError(f"The numpy backend runs on the CPU only (asked for device '{device}'); "
                               "use --backend torch for other devices.")
        from .numpy_backend import NumpyBackend

        return NumpyBackend(spec, n_in, n_out, params)
    if name == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise BackendError(
                "The torch backend needs PyTorch, which is not installed. Install it with "
                "pip install \"dltui[torch]\" (or a build for your GPU from pytorch.org), "
                "or use --backend numpy."
            ) from None
        from .torch_backend import TorchBackend

        return TorchBackend(spec, n_in, n_out, params, device=device or spec.values["training"]["device"])
    raise BackendError(f"Unknown backend '{name}': use numpy or torch (or auto, which the trainer resolves).")


__all__ = ["Backend", "BackendError", "make_backend"]
