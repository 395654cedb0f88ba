"""The system panel screen and `dltui top`: what it shows equals what (a fake) NVML returned;
without NVML it says 'no GPU' and shows the host."""

from __future__ import annotations

import subprocess
import sys

from dltui.core.integrations.sysinfo import Sampler
from dltui.tui.screens.system import SystemScreen
from textual.app import App
from textual.widgets import Static

from tests.async_helpers import sync, wait_for
from tests.fake_nvml import H200, FakeNVML

CLI = [sys.executable, "-c", "import sys; from dltui.tui.cli import main; sys.exit(main())"]


class Host(App):
    def __init__(self, screen):
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


def _body(app) -> str:
    return str(app.screen.query_one("#sys-body", Static).render())


@sync
async def test_panel_shows_the_fake_gpu_and_the_run_line():
    fake = FakeNVML([dict(H200)])
    s = Sampler(nvml=fake)
    s.sample_once()
    screen = SystemScreen(sampler=s, run_line=lambda: "run: 1,234 steps/s on cuda:0", interval=0.05)
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "NVIDIA H200" in _body(app), what="the GPU line")
        body = _body(app)
        assert "37%" in body and "12.0/141.0 GiB" in body and "41°C" in body and "123/700 W" in body
        assert "pid 4242" in body and "3.0 GiB" in body and "host · CPU" in body
        assert "1,234 steps/s on cuda:0" in str(app.screen.query_one("#sys-run", Static).render())
        fake.gpus[0]["util"] = 99
        s.sample_once()
        await wait_for(pilot, lambda: "99%" in _body(app), what="the new sample")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SystemScreen), what="the panel to close")


@sync
async def test_panel_without_gpu_says_so():
    s = Sampler(nvml=FakeNVML([], fail_init=True))
    s.sample_once()
    app = Host(SystemScreen(sampler=s, interval=0.05))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "no GPU" in _body(app), what="the no-GPU line")
        assert "host · CPU" in _body(app)


def test_top_once_prints_plain_lines():
    out = subprocess.run([*CLI, "top", "--once", "--interval", "0.1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "host · CPU" in out.stdout and "\r" not in out.stdout and "\x1b" not in out.stdout


def test_top_bad_interval_is_a_usage_error():
    out = subprocess.run([*CLI, "top", "--interval", "-1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--interval" in out.stderr and "Traceback" not in out.stderr


@sync
async def test_g_opens_the_panel_over_a_watched_run_with_its_speed(tmp_path):
    from dltui.tui.app import DltuiApp
    from dltui.tui.cli import main

    assert main(["train", "xor", "--epochs", "3", "--out", str(tmp_path), "--quiet"]) == 0
    app = DltuiApp(watch_dir=tmp_path, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = app.screen
        await wait_for(pilot, lambda: len(dash.run.view.history) == 3, what="the run's epochs")
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, SystemScreen), what="the panel")
        run = str(app.screen.query_one("#sys-run", Static).render())
        assert run.startswith("this run: xor · finished · ") and "steps/s · numpy/cpu" in run
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dash, what="the dashboard again")


@sync
async def test_g_still_types_in_the_picker_filter():
    from dltui.tui.app import DltuiApp
    from textual.widgets import Input

    app = DltuiApp(scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"gauss")
        assert app.screen.query_one("#filter", Input).value == "gauss"
        assert not isinstance(app.screen, SystemScreen)


@sync
async def test_top_app_shows_the_panel_and_quits_on_escape():
    from dltui.tui.screens.system import TopApp

    s = Sampler(nvml=FakeNVML([dict(H200)]))
    s.sample_once()
    app = TopApp(interval=0.05, sampler=s)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SystemScreen) and "NVIDIA H200" in _body(app),
                       what="the panel")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")
