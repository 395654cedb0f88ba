"""Speed of the app: training throughput inside the (headless) app vs Trainer.fit alone, and the
time from starting `dltui` to its first drawn screen.

    python benchmarks/bench_tui.py [--preset piecewise-sigmoid] [--epochs 5000] [--repeats 3]

Prints steps/s for both and their ratio (aim: >= 0.9), and the first-screen time (aim: < 1 s,
without torch). Steps/s comes from the trainer's own clock (the last epoch's `elapsed`, pauses
excluded) on both sides. Runs alternate so a busy machine affects both sides alike; the best of
each is kept. On a shared 2-core machine the ratio moves by about ±0.05 from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time


def spec_for(preset: str, epochs: int):
    from dltui.core.config.spec import load_preset

    return load_preset(preset, {"training.epochs": epochs, "training.patience": 0})


def fit_alone(preset: str, epochs: int) -> float:
    from dltui.core.training.trainer import Trainer

    r = Trainer(spec_for(preset, epochs)).fit()
    return r.steps / r.history[-1].elapsed  # the trainer's own clock, as inside the app


def fit_in_app(preset: str, epochs: int, size=(100, 30)) -> float:
    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp

    run = LiveRun(spec_for(preset, epochs), start=False)
    app = DltuiApp(run=run, scan_dir=None)

    async def go() -> float:
        async with app.run_test(size=size) as pilot:
            scr = app.screen
            while scr.run.view.state != "paused":
                await pilot.pause(0.01)
            await pilot.pause(0.5)  # the first screen fully drawn, as a person would start it
            await pilot.press("space")
            # polled without the pilot: each pilot.pause() posts a message to every widget of the screen
            # and forces a screen update - at 100 a second that was the harness's own cost, counted
            # against the app; and every wake-up of the UI thread is a GIL hand-over, dear on a busy machine
            # (the trainer's clock below is exact whatever the poll interval)
            while scr.run.trainer.state != "finished":
                await asyncio.sleep(0.2)
            tr = scr.run.trainer
            await pilot.pause(0.2)  # the last redraws, as a person would see them
            # the trainer's own clock (pauses excluded), so the key press's latency is not counted
            return tr.step / tr.history[-1].elapsed

    return asyncio.run(go())


FIRST_SCREEN = r"""
import sys, time, json
from dltui.tui.app import DltuiApp
PRESET = {preset!r}
async def pilot(p):
    await p.pause()
    print(json.dumps({{"t": time.time(), "torch": "torch" in sys.modules,
                      "screen": type(p.app.screen).__name__}}))
    p.app.exit()
run = None
if PRESET:
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    run = LiveRun(load_preset(PRESET))
DltuiApp(run=run, scan_dir=None).run(headless=True, size=(100, 30), auto_pilot=pilot)
"""


def first_screen(preset: str = "") -> dict:
    """Seconds from starting a Python process to the app's first drawn screen (the picker, or with
    ``preset`` its dashboard, as `dltui PRESET` opens it)."""
    t0 = time.time()
    code = FIRST_SCREEN.format(preset=preset)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    d = json.loads(line)
    d["seconds"] = d.pop("t") - t0
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="piecewise-sigmoid")
    ap.add_argument("--epochs", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    fit_alone(a.preset, 20)  # warm up imports and caches
    alone, in_app = [], []
    for _ in range(a.repeats):
        alone.append(fit_alone(a.preset, a.epochs))
        in_app.append(fit_in_app(a.preset, a.epochs))
    best_alone, best_app = max(alone), max(in_app)
    print(f"preset {a.preset}, {a.epochs} epochs, best of {a.repeats}")
    runs = lambda xs: ", ".join(f"{x:,.0f}" for x in xs)  # noqa: E731
    print(f"  Trainer.fit alone : {best_alone:10,.0f} steps/s   (runs: {runs(alone)})")
    print(f"  inside the app    : {best_app:10,.0f} steps/s   (runs: {runs(in_app)})")
    print(f"  ratio app/alone   : {best_app / best_alone:10.2f}   (aim >= 0.90)")
    ratios = sorted(b / a for a, b in zip(alone, in_app))  # each app run against the headless run before it
    med = statistics.median
    print(f"  medians           : alone {med(alone):,.0f}, app {med(in_app):,.0f} steps/s; ratio of pairs median "
          f"{med(ratios):.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
    for preset in ("", a.preset):
        shots = [first_screen(preset) for _ in range(3)]
        best = min(s["seconds"] for s in shots)
        print(f"first screen ({shots[0]['screen']}{' of ' + preset if preset else ''}) after {best:.2f} s "
              f"from process start (best of 3; aim < 1 s); torch imported: {any(s['torch'] for s in shots)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
