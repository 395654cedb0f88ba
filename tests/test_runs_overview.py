"""`dltui watch runs/`: a folder of runs or sweeps listed with state, preset, device, epoch, best
loss and age; killed and stale runs marked; enter opens one in the dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from dltui.core.runs.store import scan as runlist
from dltui.tui import run_list
from dltui.tui.cli import main


def _train(out, preset="xor", epochs=3):
    assert main(["train", preset, "--epochs", str(epochs), "--out", str(out), "--quiet"]) == 0


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _fake_running(path, pid, updated_ago=0.0):
    path.mkdir(parents=True)
    (path / "status.json").write_text(json.dumps({
        "updated": time.time() - updated_ago, "pid": pid, "state": "running", "epoch": 7,
        "started": {"preset": "spiral", "backend": "torch", "device": "cuda:0", "epochs": 100}}))
    (path / "metrics.jsonl").write_text(json.dumps({"epoch": 7, "best_val_loss": 0.25}) + "\n")
    if updated_ago:
        t = time.time() - updated_ago
        for f in path.iterdir():
            os.utime(f, (t, t))


def test_states_and_columns(tmp_path, capsys):
    _train(tmp_path / "a")
    _train(tmp_path / "sweep" / "s1", "spiral", 2)
    _fake_running(tmp_path / "sweep" / "live", os.getpid())
    _fake_running(tmp_path / "dead", _dead_pid())
    _fake_running(tmp_path / "old", os.getpid(), updated_ago=runlist.STALE + 60)
    rows = {r.name: r for r in runlist.scan_runs(tmp_path)}
    assert set(rows) == {"a", "sweep/s1", "sweep/live", "dead", "old"}
    assert rows["a"].state == "completed" and rows["a"].preset == "xor" and rows["a"].device == "numpy cpu"
    assert rows["a"].epoch == 3 and rows["a"].epochs == 3
    best = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()][-1]["best_val_loss"]
    assert rows["a"].best == best
    assert rows["sweep/live"].state == "running" and rows["sweep/live"].best == 0.25
    assert run_list.fmt_row(rows["sweep/live"])[3:6] == ["torch cuda:0", "7/100", "0.25"]
    assert rows["dead"].state == "killed" and rows["old"].state == "stale"
    assert run_list.fmt_row(rows["old"])[-1] == "6m"
    names = [r.name for r in runlist.scan_runs(tmp_path)]
    assert names.index("old") == len(names) - 1  # the least recently active last


def test_escape_bytes_in_names_do_not_reach_the_terminal(tmp_path):
    _fake_running(tmp_path / "bad\x1b[31mname", os.getpid())
    row = runlist.scan_runs(tmp_path)[0]
    assert "\x1b" not in "".join(run_list.fmt_row(row))


def test_watch_folder_without_terminal_prints_the_list(tmp_path):
    _train(tmp_path / "r1")
    code = f"import sys; from dltui.tui.cli import main; sys.exit(main(['watch', r'{tmp_path}']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.splitlines()[0].startswith("run\tstate")
    assert out.stdout.splitlines()[1].startswith("r1\tcompleted\txor")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = subprocess.run([sys.executable, "-c", code.replace(str(tmp_path), str(empty))], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "not a run folder" in bad.stderr


def test_overview_screen_lists_and_opens_a_run(tmp_path):
    import pytest

    pytest.importorskip("textual")
    from dltui.tui.screens.dashboard import DashboardScreen
    from dltui.tui.screens.runs_overview import RunsOverviewScreen
    from textual.app import App
    from textual.widgets import DataTable

    from tests.async_helpers import sync, wait_for

    _train(tmp_path / "one")
    _fake_running(tmp_path / "two", _dead_pid())

    class Host(App):
        def on_mount(self):
            self.push_screen(RunsOverviewScreen(tmp_path, interval=0.1))

    @sync
    async def go():
        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.screen.query_one(DataTable).row_count == 2, what="two rows")
            table = app.screen.query_one(DataTable)
            cells = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(2)}
            assert cells == {"one": "completed", "two": "killed"}
            row = [str(table.get_row_at(i)[0]) for i in range(2)].index("one")
            table.move_cursor(row=row)
            await pilot.pause(0.3)  # a refresh keeps the cursor on the same run
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
            assert str(app.screen._watch_dir) == str(tmp_path / "one") and len(app.screen_stack) == 3

    go()


def test_a_sweep_with_its_own_status_still_lists_its_runs(tmp_path):
    _train(tmp_path / "sw" / "r0")
    (tmp_path / "sw" / "status.json").write_text(json.dumps({"state": "finished", "end": {"reason": "completed"}}))
    assert {r.name for r in runlist.scan_runs(tmp_path)} == {"sw", "sw/r0"}


def test_the_watch_app_on_a_folder_starts_with_its_stylesheet(tmp_path):
    """`dltui watch FOLDER` runs this very app: it must find the app's CSS (it once looked beside the
    overview's own file and failed) and list the runs."""
    import pytest

    pytest.importorskip("textual")
    from dltui.tui.screens.runs_overview import RunsOverviewScreen, runs_app
    from textual.widgets import DataTable

    from tests.async_helpers import sync, wait_for

    _train(tmp_path / "one")

    @sync
    async def go():
        app = runs_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, RunsOverviewScreen)
                           and app.screen.query_one(DataTable).row_count == 1, what="the overview's row")

    go()
