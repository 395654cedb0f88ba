"""The real app in a real terminal: tmux at 100x30, keys sent, the screen read with capture-pane."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

pytest.importorskip("textual")
if shutil.which("tmux") is None:
    pytest.skip("tmux is not installed", allow_module_level=True)

SOCKET = f"dltui-test-{os.getpid()}"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=10).stdout


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", "t")


def wait_screen(cond, timeout: float = 60.0, what: str = "") -> str:
    t0 = time.monotonic()
    while True:
        s = screen()
        if cond(s):
            return s
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}; screen:\n{s}")
        time.sleep(0.1)


def epoch_of(s: str) -> int:
    m = re.search(r"epoch (\d+)/\d+", s)
    return int(m.group(1)) if m else -1


@pytest.fixture
def pane(tmp_path):
    cmd = (f"{sys.executable} -m dltui.tui.cli piecewise-sigmoid --start --epochs 1000000 "
           "--set training.patience=0")
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
                    "-c", str(tmp_path), cmd], check=True, env=env, timeout=10)  # its run folder goes there
    try:
        yield
    finally:
        tmux("kill-server")


def test_dashboard_in_tmux_shows_plot_table_and_rising_epochs(pane):
    s = wait_screen(lambda s: "loss (" in s and epoch_of(s) > 0 and "shape" in s and "┤" in s,
                    timeout=60, what="the dashboard training, its loss plot drawn")
    assert re.search(r"┤", s) and "└" in s  # the loss plot's axes: y ticks and the corner
    assert "shape" in s and "act" in s  # the layer table's header (columns such as ‖W‖ give way when narrow)
    first = epoch_of(s)
    s = wait_screen(lambda s: epoch_of(s) > first, what="a rising epoch counter")
    assert "RUNNING" in s
    tmux("send-keys", "-t", "t", "space")
    s = wait_screen(lambda s: "PAUSED" in s, what="pause")
    held = epoch_of(s)
    time.sleep(0.5)
    assert epoch_of(screen()) == held
    tmux("send-keys", "-t", "t", "e")  # finishes the epoch under way (paused mid-epoch: the same number)
    s = wait_screen(lambda s: epoch_of(s) in (held, held + 1) and "PAUSED" in s, what="the epoch's end")
    time.sleep(0.5)
    at_end = epoch_of(screen())
    tmux("send-keys", "-t", "t", "e")  # now at an epoch's end: one whole epoch more
    wait_screen(lambda s: epoch_of(s) == at_end + 1, what="one more epoch")
    tmux("send-keys", "-t", "t", "q")
    t0 = time.monotonic()
    while tmux("has-session", "-t", "t") or "t:" in tmux("list-sessions"):
        assert time.monotonic() - t0 < 10, "the app did not quit"
        time.sleep(0.1)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
def test_spiral_add_a_layer_tanh_x1sq_x2sq_restart_by_keys_without_colour(size, tmp_path):
    """Issue 11's walk: from spiral, with keys alone, add a layer, switch to tanh, add x1² and x2², restart,
    and read the result (NO_COLOR: the screen carries it by glyphs)."""
    cmd = f"{sys.executable} -m dltui.tui.cli spiral --set model.activation=relu --epochs 50"
    env = {**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1"}
    for _ in range(50):  # the previous test's server may still be shutting down
        started = subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", "t", "-x", str(size[0]),
                                  "-y", str(size[1]), "-c", str(tmp_path), cmd],  # its run folders go there
                                 env=env, timeout=10, capture_output=True)
        if started.returncode == 0:
            break
        time.sleep(0.1)
    assert started.returncode == 0, started.stderr
    try:
        wait_screen(lambda s: "PAUSED" in s, what="the dashboard, paused")
        tmux("send-keys", "-t", "t", "o")
        wait_screen(lambda s: "edit the preset" in s, what="the editor")
        keys = ["Right", "Down", "Right", "Right", "Down", "Down", "Down", "Down", "Right", "Right", "Space",
                "Right", "Space"]
        for k in keys:
            tmux("send-keys", "-t", "t", k)
            time.sleep(0.05)
        s = wait_screen(lambda s: "[x1²][x2²]" in s, what="x1² and x2² on")
        assert "hidden [16, 16] → [16, 16, 16]" in s and "tanh" in s
        tmux("send-keys", "-t", "t", "Enter")
        s = wait_screen(lambda s: "restarted:" in s, what="the restart")
        tmux("send-keys", "-t", "t", "e")
        s = wait_screen(lambda s: epoch_of(s) == 1, what="an epoch of the new network")
        assert "16→16" in s and "6→16" in s and "tanh" in s  # the layer table: 6 inputs, 3 hidden layers
        tmux("send-keys", "-t", "t", "v" if size[0] < 90 else "u")
        wait_screen(lambda s: re.search(r"(output p\(class 1\)|unit 1\.1)", s) and "o x train" in s,
                    what="the learned plane with its legend")
    finally:
        tmux("kill-server")
        t0 = time.monotonic()
        while tmux("list-sessions") and time.monotonic() - t0 < 10:
            time.sleep(0.1)


def test_at_the_lessons_pace_the_screen_still_moves_after_10_seconds(tmp_path):
    """`dltui piecewise-sigmoid`, space: at the preset's pace the run is still going after 10 s and the
    screen keeps changing (at max it would have ended in about a second)."""
    cmd = f"{sys.executable} -m dltui.tui.cli piecewise-sigmoid"
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
                    "-c", str(tmp_path), cmd], check=True, env=env, timeout=10)
    try:
        wait_screen(lambda s: "PAUSED" in s and "pace " in s, what="the dashboard, paused")
        tmux("send-keys", "-t", "t", "space")
        wait_screen(lambda s: "RUNNING" in s, what="running")
        time.sleep(10)
        first = screen()
        time.sleep(1.0)
        second = screen()
        assert first != second and "RUNNING" in second.splitlines()[0]
        assert 0 < epoch_of(second) < 600
    finally:
        tmux("kill-server")
