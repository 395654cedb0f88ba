"""Backends: ``make_backend(name, spec, n_in, n_out)``. torch is imported only when chosen."""

from __future__ import annotations

from .base import Backend


class BackendError(RuntimeError):
    """The chosen backend or device cannot be used. The message is meant for a person."""


def make_backend(name: str, spec, n_in: int, n_out: int, params=None, device: str | None = None) -> Backend:
    if name == "auto":  # the fastest option by measurement (core/autodevice.py); the spec records it
        from ..autodevice import apply, choose

        choice = choose(spec, n_in, n_out, device=device or spec.values["training"]["device"])
        apply(spec, choice)
        be = make_backend(choice.option.backend, spec, n_in, n_out, params, choice.option.device)
        be.auto_reason = choice.reason
        return be
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
    raise BackendError(f"Unknown backend '{name}': use numpy, torch or auto.")


__all__ = ["Backend", "BackendError", "make_backend"]
