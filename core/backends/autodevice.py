"""``--backend auto``: the fastest engine and device for this model and batch, by measurement.

The options are the NumPy engine, torch on the CPU, torch on each CUDA GPU (eager) and the same
with the training step in a CUDA graph. ``choose`` times a few steps of each option that can win
(on random data of the run's shapes), keeps the fastest, and says why; results are cached per
machine in ``~/.cache/dltui/probe.json`` (``$DLTUI_CACHE_DIR`` or ``$XDG_CACHE_HOME`` move it),
keyed by the model's shape, batch, dtype, optimizer, host and library versions.

The probe must cost less than it saves, so torch is not imported when it cannot win: on a machine
without a CUDA GPU the NumPy engine is never slower than torch on the CPU for these networks
(benchmarks/bench_torch.py measures the NumPy/torch step-time ratio),
while importing torch and building its first optimizer costs about 2.5 s. When torch is already
imported (or the user asked for it) it is measured, not assumed.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PROBE_SECONDS = 0.25  # timed steps per option, after the warm-up
WARMUP = 5  # untimed steps (a CUDA graph is captured after 3)
PROBE_ROWS = 1024  # rows of random data for a full-batch (batch_size 0) spec


@dataclass(frozen=True)
class Option:
    backend: str  # numpy | torch
    device: str  # cpu | cuda:N
    graph: bool = False

    @property
    def label(self) -> str:
        if self.backend == "numpy":
            return "numpy cpu"
        return f"torch {self.device}" + (" graph" if self.graph else "")


@dataclass
class Choice:
    option: Option
    reason: str
    table: list[tuple[str, float | None, str]] = field(default_factory=list)  # (label, steps/s, note)
    cached: bool = False


def cuda_present() -> bool:
    """A CUDA GPU is here. Asks torch only when it is already imported; otherwise the driver's files."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return bool(torch.cuda.is_available())
        except Exception:  # noqa: BLE001
            return False
    return os.path.exists("/proc/driver/nvidia/gpus") or os.path.exists("/dev/nvidia0")


def torch_installed() -> bool:
    if "torch" in sys.modules:
        return True
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _cuda_devices() -> list[str]:
    from .device import available_devices

    return [d for d in available_devices() if d.startswith("cuda")]


def candidates(device: str = "auto", *, torch_ok: bool | None = None, cuda: bool | None = None,
               torch_asked: bool = False) -> tuple[list[Option], str]:
    """The options worth timing for ``device`` (auto | cpu | cuda | cuda:N | mps), and a note on what
    was left out and why. With ``auto`` on a machine with several GPUs only the first is timed."""
    device = (device or "auto").lower()
    torch_ok = torch_installed() if torch_ok is None else torch_ok
    cuda = cuda_present() if cuda is None else cuda
    opts = [Option("numpy", "cpu")] if device in ("auto", "cpu") else []
    note = ""
    if not torch_ok:
        return opts, "torch is not installed, so the NumPy engine is the only option"
    if device == "mps":  # Apple's GPU: nothing to compare it with on that device
        return [Option("torch", "mps")], "the only option on device mps"
    if cuda and (device in ("auto", "cuda") or device.startswith("cuda:")):
        gpus = _cuda_devices()
        if device.startswith("cuda:"):
            gpus = [g for g in gpus if g == device]
        for g in gpus[:1] if device in ("auto", "cuda") else gpus:
            opts += [Option("torch", g), Option("torch", g, graph=True)]
    if device in ("auto", "cpu"):
        if cuda or torch_asked or "torch" in sys.modules:
            opts.insert(1, Option("torch", "cpu"))
        else:
            note = ("no CUDA GPU here, and on the CPU the NumPy engine is never slower than torch for "
                    "these networks, so torch was not started (about 2.5 s)")
    return opts, note


def probe_data(spec, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    bs = spec.values["training"]["batch_size"]
    rows = bs * 4 if bs > 0 else PROBE_ROWS
    rng = np.random.default_rng(0)
    dtype = spec.values["training"]["dtype"]
    x = rng.standard_normal((rows, n_in)).astype(dtype)
    if spec.values["loss"]["name"] == "cross_entropy":
        y = rng.integers(0, n_out, rows)
    else:
        y = rng.standard_normal((rows, n_out)).astype(dtype)
    return x, y


def time_option(opt: Option, spec, n_in: int, n_out: int, seconds: float = PROBE_SECONDS) -> float:
    """Steps per second of ``opt`` on random data shaped like the run's (device work included)."""
    from . import make_backend

    s = copy.copy(spec)
    s.values = copy.deepcopy(spec.values)
    s.values["training"].update(backend=opt.backend, device=opt.device, graph=opt.graph)
    be = make_backend(opt.backend, s, n_in, n_out, device=opt.device)
    try:
        x, y = probe_data(s, n_in, n_out)
        be.set_data(x, y, x[:8], y[:8], s.values["training"]["batch_size"])
        n_batches = max(1, len(x) // be.bs)
        perm = np.arange(len(x))
        be.begin_epoch(perm)
        t0 = time.perf_counter()
        for i in range(WARMUP):  # a slow option stops warming up early: the probe's cost stays bounded
            be.train_step(i % n_batches)
            be.last_loss()  # waits for the device
            if not opt.graph and time.perf_counter() - t0 >= seconds:
                break
        steps, t0 = 0, time.perf_counter()
        while True:
            if steps and steps % n_batches == 0:
                be.begin_epoch(perm)
            be.train_step(steps % n_batches)
            steps += 1
            # the host clock is cheap: wait for the device only every 16 steps or when time is up
            if steps % 16 == 0 or steps < 4 or time.perf_counter() - t0 >= seconds:
                be.last_loss()
                if time.perf_counter() - t0 >= seconds:
                    break
        return steps / (time.perf_counter() - t0)
    finally:
        be.close()


def cache_path() -> Path:
    root = os.environ.get("DLTUI_CACHE_DIR")
    if not root:
        root = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dltui")
    return Path(root) / "probe.json"


def _versions() -> str:
    from importlib import metadata

    try:
        tv = metadata.version("torch")
    except metadata.PackageNotFoundError:
        tv = "none"
    return f"numpy {np.__version__} torch {tv} python {platform.python_version()}"


def cache_key(spec, n_in: int, n_out: int, opts: list[Option]) -> str:
    from .base import layer_sizes

    t = spec.values["training"]
    sizes = "-".join(map(str, layer_sizes(spec, n_in, n_out)))
    return (f"{platform.node()}|{sizes}|{'/'.join(spec.activations)}|batch {t['batch_size']}|{t['dtype']}|"
            f"{spec.values['optimizer']['name']}|{_versions()}|{','.join(o.label for o in opts)}")


def _load_cache(path: Path) -> dict:
    try:
        d = json.loads(path.read_text())
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(path: Path, key: str, table: list) -> None:
    from ..runs.store.checkpoint import atomic_write

    try:
        d = _load_cache(path)
        d[key] = {"table": table, "when": time.time()}
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(d, indent=1), fsync=False)
    except OSError:
        pass  # a cache that cannot be written only costs another probe


Timer = Callable[[Option], float]


def measure(opts: list[Option], timer: Timer) -> list[tuple[str, float | None, str]]:
    table = []
    for o in opts:
        try:
            table.append((o.label, float(timer(o)), ""))
        except Exception as e:  # noqa: BLE001 - an option that fails (graph capture, OOM) just loses
            table.append((o.label, None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"))
    return table


def pick(opts: list[Option], table: list, note: str = "") -> Choice:
    ok = [(sps, o) for o, (_, sps, _) in zip(opts, table) if sps is not None]
    if not ok:
        return Choice(Option("numpy", "cpu"), "every option failed to run; using the NumPy engine", table)
    sps, best = max(ok, key=lambda t: t[0])
    others = sorted(((s, o) for s, o in ok if o != best), key=lambda t: -t[0])
    reason = f"{best.label}: {fmt_sps(sps)} steps/s"
    if others:
        s2, o2 = others[0]
        reason += f", {sps / s2:.2f}x the next best ({o2.label}, {fmt_sps(s2)} steps/s)"
    else:
        reason += " (the only option measured)"
    if note:
        reason += f"; {note}"
    return Choice(best, reason, table)


def choose(spec, n_in: int, n_out: int, device: str = "auto", *, timer: Timer | None = None,
           use_cache: bool = True, refresh: bool = False, seconds: float = PROBE_SECONDS,
           measure_single: bool = False, **present) -> Choice:
    """The fastest option for this spec's model and batch on ``device`` (auto | cpu | cuda[:N]).
    ``refresh``: measure even when a cached result exists (and cache the new one).
    ``timer(option) -> steps/s`` replaces the real measurement (tests); ``present`` passes
    ``torch_ok``/``cuda``/``torch_asked`` to ``candidates``. ``measure_single``: time the option even when
    it is the only one (`dltui bench`); otherwise a lone option is chosen unmeasured."""
    opts, note = candidates(device, **present)
    if not opts:
        from . import BackendError

        raise BackendError(f"No backend can run on device '{device}' here ({note or 'none found'}).")
    if len(opts) == 1 and not measure_single:
        return Choice(opts[0], f"{opts[0].label} (not measured): {note or 'the only option here'}",
                      [(opts[0].label, None, "not measured")])
    path = cache_path()
    key = cache_key(spec, n_in, n_out, opts)
    hit = _load_cache(path).get(key) if use_cache and not refresh else None
    if hit and len(hit.get("table", ())) == len(opts):
        choice = pick(opts, [tuple(r) for r in hit["table"]], note)
        choice.cached, choice.reason = True, choice.reason + f" (measured earlier, cached in {path})"
        return choice
    table = measure(opts, timer or (lambda o: time_option(o, spec, n_in, n_out, seconds)))
    if use_cache:
        _save_cache(path, key, table)
    return pick(opts, table, note)


def apply(spec, choice: Choice) -> None:
    """Write the chosen option into the spec (so the run's preset.toml records what ran)."""
    t = spec.values["training"]
    t.update(backend=choice.option.backend, device=choice.option.device, graph=choice.option.graph)


def fmt_sps(sps: float | None) -> str:
    if sps is None:
        return "-"
    return format(sps, ",.0f") if sps >= 100 else format(sps, ".3g")


def format_table(choice: Choice) -> str:
    width = max(len(r[0]) for r in choice.table) + 2
    lines = [f"{'option':<{width}}{'steps/s':>12}"]
    for label, sps, note in choice.table:
        mark = "  <- winner" if label == choice.option.label else ""
        lines.append(f"{label:<{width}}{fmt_sps(sps):>12}{mark}"
                     + (f"  ({note})" if note else ""))
    return "\n".join(lines)


def make_chosen_backend(spec, n_in: int, n_out: int, params=None, device: str | None = None):
    """`--backend auto`: the fastest option by measurement; the spec records what was chosen and the
    backend says why (``auto_reason``)."""
    from . import make_backend

    choice = choose(spec, n_in, n_out, device=device or spec.values["training"]["device"])
    apply(spec, choice)
    be = make_backend(choice.option.backend, spec, n_in, n_out, params, choice.option.device)
    be.auto_reason = choice.reason
    return be


def backend_for(spec, n_in: int, n_out: int, params=None, device: str | None = None, name: str | None = None):
    """The spec's backend (or ``name``), ``auto`` included: what the trainer and the step-through build."""
    from . import make_backend

    name = name or spec.values["training"]["backend"]
    if name == "auto":
        return make_chosen_backend(spec, n_in, n_out, params, device)
    return make_backend(name, spec, n_in, n_out, params=params, device=device)
