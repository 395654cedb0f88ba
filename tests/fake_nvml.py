"""A stand-in for the ``pynvml`` module (nvidia-ml-py): the same function names, numbers a test
chooses, so the system panel is tested without a GPU."""

from __future__ import annotations

from types import SimpleNamespace

NVML_TEMPERATURE_GPU = 0


class NVMLError(Exception):
    pass


class FakeNVML:
    NVML_TEMPERATURE_GPU = NVML_TEMPERATURE_GPU

    def __init__(self, gpus: list[dict], fail_init: bool = False):
        self.gpus = gpus  # each: name, util, used, total, temp, mw, limit_mw, procs [(pid, bytes)]
        self.fail_init = fail_init
        self.inits = self.shutdowns = 0

    def nvmlInit(self):
        if self.fail_init:
            raise NVMLError("Driver Not Loaded")
        self.inits += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return self.gpus[h]["name"].encode()

    def nvmlDeviceGetUtilizationRates(self, h):
        return SimpleNamespace(gpu=self.gpus[h]["util"], memory=0)

    def nvmlDeviceGetMemoryInfo(self, h):
        g = self.gpus[h]
        return SimpleNamespace(used=g["used"], total=g["total"], free=g["total"] - g["used"])

    def nvmlDeviceGetTemperature(self, h, sensor):
        assert sensor == NVML_TEMPERATURE_GPU
        return self.gpus[h]["temp"]

    def nvmlDeviceGetPowerUsage(self, h):
        if "mw" not in self.gpus[h]:
            raise NVMLError("Not Supported")
        return self.gpus[h]["mw"]

    def nvmlDeviceGetEnforcedPowerLimit(self, h):
        return self.gpus[h].get("limit_mw", 0)

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        return [SimpleNamespace(pid=p, usedGpuMemory=m) for p, m in self.gpus[h].get("procs", [])]


H200 = {"name": "NVIDIA H200", "util": 37, "used": 12 * 2**30, "total": 141 * 2**30, "temp": 41,
        "mw": 123_456, "limit_mw": 700_000, "procs": [(4242, 3 * 2**30)]}
A100 = {"name": "NVIDIA A100-SXM4-40GB", "util": 0, "used": 2**20, "total": 40 * 2**30, "temp": 30}
