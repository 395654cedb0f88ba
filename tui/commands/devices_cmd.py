"""`dltui devices`: the hardware torch can train on here (CUDA GPUs, MPS, the CPU), with memory,
utilisation and temperature where known, and which one `--device auto` picks."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "devices", help="show the devices the torch backend can use",
        description="List the devices torch sees (CUDA GPUs, Apple MPS, the CPU) with name, memory and, "
                    "when nvidia-ml-py is installed, utilisation and temperature. Memory 'used' is this "
                    "process's; 'free' and 'total' are the whole device's.")
    sp.set_defaults(run=run)


def lines() -> list[str]:
    from dltui.core.backends.device import INSTALL_HINT, available_devices, device_info, fmt_bytes, torch_available

    if not torch_available():
        return ["torch is not installed: only the numpy backend (CPU) is available.",
                f"For the torch backend and GPUs: {INSTALL_HINT}."]
    import torch

    build = f"CUDA {torch.version.cuda}" if getattr(torch.version, "cuda", None) else "CPU-only build"
    out = [f"torch {torch.__version__} ({build})"]
    devices = available_devices()
    for dev in devices:
        info = device_info(dev)
        parts = [f"  {dev:<8}{info['name']}"]
        if info["mem_total"]:
            parts.append(f"{fmt_bytes(info['mem_free'])} free / {fmt_bytes(info['mem_total'])}")
        if info["mem_used"] is not None:
            parts.append(f"{fmt_bytes(info['mem_used'])} used by dltui")
        if info["util"] is not None:
            parts.append(f"{info['util']:.0f}% busy")
        if info["temp"] is not None:
            parts.append(f"{info['temp']:.0f}°C")
        if dev == "cpu":
            parts.append(f"{torch.get_num_threads()} threads")
        out.append(" · ".join(parts))
    out.append(f"--device auto picks {devices[0]}.")
    return out


def run(args) -> int:
    for line in lines():
        print(line)
    sys.stdout.flush()
    return 0
