"""What hardware there is: CUDA GPUs, Apple's MPS, the CPU; names and memory.

torch is imported inside the functions, never at import time, so the NumPy path stays
torch-free. Memory figures are this process's own (torch's allocator), plus the device's
total and free memory from the driver; utilisation and temperature come from NVML when
nvidia-ml-py is installed, looked up by the GPU's UUID (NVML process ids are wrong in
containers, so no per-process matching is attempted).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import DeviceError

INSTALL_HINT = 'pip install "dltui[torch]" (or a build for your GPU from pytorch.org)'


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_available() -> bool:
    return _torch() is not None


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    try:
        return bool(mps is not None and mps.is_available())
    except Exception:  # noqa: BLE001 - a broken MPS build counts as absent
        return False


def _cuda_count(torch) -> int:
    try:
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a broken driver counts as no GPU
        return 0


def available_devices() -> list[str]:
    """Every device torch can use here, best first: cuda:0.., mps, cpu (just cpu without torch)."""
    torch = _torch()
    if torch is None:
        return ["cpu"]
    out = [f"cuda:{i}" for i in range(_cuda_count(torch))]
    if _mps_available(torch):
        out.append("mps")
    return out + ["cpu"]


def resolve_device(name: str | None = "auto") -> str:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' -> a concrete torch device string.

    auto picks CUDA, then MPS, then the CPU. A device that is not there raises DeviceError naming
    what was asked and what exists.
    """
    name = asked = (name or "auto").strip().lower()
    devices = available_devices()
    if name == "auto":
        return devices[0]
    if name == "cpu":
        return "cpu"
    if name == "cuda":
        name = "cuda:0"
    if name in devices:
        return name
    valid = name == "mps" or (name.startswith("cuda:") and name[5:].isdigit())
    if not valid:
        raise DeviceError(f"Unknown device '{name}': use auto, cpu, cuda, cuda:N or mps. "
                          f"Here torch sees: {', '.join(devices)}.")
    torch = _torch()
    if torch is None:
        why = f"torch is not installed, so only the CPU can be used. Install it with {INSTALL_HINT}."
    elif name == "mps":
        why = "this machine has no Apple MPS device (MPS needs macOS on Apple silicon)."
    elif not _cuda_count(torch):
        build = getattr(torch.version, "cuda", None)
        if not build:
            why = f"torch sees no CUDA GPU (this torch {torch.__version__} is a CPU-only build)."
        else:
            why = (f"torch sees no CUDA GPU (torch {torch.__version__} built for CUDA {build}; is the driver "
                   "loaded and CUDA_VISIBLE_DEVICES right?).")
    else:
        why = f"there are only {_cuda_count(torch)} CUDA GPU(s), numbered from 0."
    raise DeviceError(f"Device '{asked}' is not available: {why} Available: {', '.join(devices)}. "
                      "Use --device auto to pick the best one.")


def _cuda_index(device: str) -> int:
    return int(device.split(":", 1)[1]) if ":" in device else 0


def device_name(device: str) -> str:
    """A person's name for a concrete device: 'NVIDIA H100 80GB HBM3', 'Apple MPS', the CPU model."""
    torch = _torch() if device.startswith("cuda") else None
    if torch is not None:
        try:
            return torch.cuda.get_device_name(_cuda_index(device))
        except Exception:  # noqa: BLE001
            return "CUDA GPU"
    if device == "mps":
        return "Apple MPS"
    return _cpu_name()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "CPU"


def describe_device(device: str) -> str:
    """'cuda:0 NVIDIA H100 80GB HBM3', 'mps', 'cpu'."""
    if device.startswith("cuda"):
        return f"{device} {device_name(device)}"
    return device


def _nvml_handle(pynvml, props):
    """The NVML handle of the GPU torch calls ``props``: by UUID, else by PCI address (torch's and
    NVML's device numbers differ under CUDA_VISIBLE_DEVICES)."""
    uuid = getattr(props, "uuid", None)
    if uuid is not None:
        text = str(uuid)
        for cand in dict.fromkeys((text if text.startswith("GPU-") else f"GPU-{text}", text)):
            try:
                return pynvml.nvmlDeviceGetHandleByUUID(cand.encode())
            except Exception:  # noqa: BLE001
                continue
    bus = getattr(props, "pci_bus_id", None)
    if bus is not None:
        dom, dev = getattr(props, "pci_domain_id", 0), getattr(props, "pci_device_id", 0)
        for fmt in ("{:08x}:{:02x}:{:02x}.0", "{:04x}:{:02x}:{:02x}.0"):
            try:
                return pynvml.nvmlDeviceGetHandleByPciBusId(fmt.format(dom, bus, dev).encode())
            except Exception:  # noqa: BLE001
                continue
    return None


def _nvml(device: str) -> dict[str, Any]:
    """Utilisation (%) and temperature (°C) of a CUDA device via NVML, or {} when unavailable."""
    try:
        import pynvml
    except ImportError:
        return {}
    torch = _torch()
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver, no NVML
        return {}
    try:
        handle = _nvml_handle(pynvml, torch.cuda.get_device_properties(_cuda_index(device)))
        if handle is None and not os.environ.get("CUDA_VISIBLE_DEVICES"):
            handle = pynvml.nvmlDeviceGetHandleByIndex(_cuda_index(device))
        if handle is None:
            return {}
        out: dict[str, Any] = {}
        try:
            out["util"] = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        except Exception:  # noqa: BLE001
            pass
        try:
            out["temp"] = float(pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
        except Exception:  # noqa: BLE001
            pass
        return out
    except Exception:  # noqa: BLE001
        return {}
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001
            pass


def device_info(device: str, backend: str = "torch") -> dict[str, Any]:
    """A small dict for the UI and CLI: backend, device, name, mem_used (this process's tensors),
    mem_reserved (this process's cache), mem_total and mem_free (the whole device), util and temp
    (NVML, when nvidia-ml-py is installed). Unknown values are None. Memory is in bytes."""
    info: dict[str, Any] = {"backend": backend, "device": device, "name": device_name(device),
                            "mem_used": None, "mem_reserved": None, "mem_total": None, "mem_free": None,
                            "util": None, "temp": None}
    if device == "cpu":  # nothing to ask torch (and a NumPy run must not import it)
        return info
    torch = _torch()
    if torch is None:
        return info
    try:
        if device.startswith("cuda"):
            i = _cuda_index(device)
            free, total = torch.cuda.mem_get_info(i)
            info.update(mem_used=int(torch.cuda.memory_allocated(i)),
                        mem_reserved=int(torch.cuda.memory_reserved(i)),
                        mem_total=int(total), mem_free=int(free))
            info.update(_nvml(device))
        elif device == "mps":
            info["mem_used"] = int(torch.mps.current_allocated_memory())
            info["mem_reserved"] = int(torch.mps.driver_allocated_memory())
    except Exception:  # noqa: BLE001 - information only: never fail a run for it
        pass
    return info


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def info_line(info: dict[str, Any]) -> str:
    """One line for a status bar: 'cuda:0 NVIDIA H100 · 12.0 MiB used / 79.1 GiB · 3% · 41°C'."""
    parts = [f"{info['device']} {info['name']}" if info["device"].startswith("cuda") else info["device"]]
    if info.get("mem_total"):
        parts.append(f"{fmt_bytes(info['mem_used'])} used / {fmt_bytes(info['mem_total'])}")
    elif info.get("mem_used") is not None:
        parts.append(f"{fmt_bytes(info['mem_used'])} used")
    if info.get("util") is not None:
        parts.append(f"{info['util']:.0f}% busy")
    if info.get("temp") is not None:
        parts.append(f"{info['temp']:.0f}°C")
    return " · ".join(parts)
