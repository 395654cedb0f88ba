"""Sweeps: the grid, runs equal to the same runs done one by one (bit-identical in float64), reuse
of finished runs, a Dask cluster giving the same table as local processes, the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from dltui.core import Trainer, load_preset
from dltui.core.config.spec import SpecError
from dltui.core.experiments.baseline import linear_baseline
from dltui.core.experiments.executors import gpu_executor, local_executor, parse_gpus
from dltui.core.experiments.sweep import parse_grid, plan, run_tasks, split_values, summarize, weight_figures
from dltui.core.experiments.sweep_table import build, format_table, stats, wins
from dltui.core.runs.store.folder import read_metrics
from dltui.tui.cli import main

SMALL = {"training.epochs": 40, "training.dtype": "float64"}
GRID = [("model.hidden", [[4], [8, 8]])]


def test_grid_values_split_outside_brackets_and_parse_as_set_does():
    assert split_values("[8,8,8],[56]") == ["[8,8,8]", "[56]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]
    assert parse_grid("model.hidden=[8,8,8],[56]") == ("model.hidden", [[8, 8, 8], [56]])
    assert parse_grid("model.activation=relu,sigmoid") == ("model.activation", ["relu", "sigmoid"])
    assert parse_grid("optimizer.lr=1e-3, 0.1") == ("optimizer.lr", [0.001, 0.1])
    with pytest.raises(SpecError, match="expected section.key=value1,value2"):
        parse_grid("model.hidden")


def test_plan_is_rows_times_seeds_and_checks_every_value_first(tmp_path):
    tasks = plan("piecewise-relu", GRID, [1, 2, 3], tmp_path, SMALL)
    assert [(t.row, t.seed) for t in tasks] == [(r, s) for r in (0, 1) for s in (1, 2, 3)]
    assert tasks[4].overrides == {**SMALL, "training.seed": 2, "data.seed": 2, "model.hidden": [8, 8]}
    assert len({t.out_dir for t in tasks}) == 6
    with pytest.raises(SpecError, match="optimizer"):
        plan("piecewise-relu", [("optimizer.lr", [0.1, -1.0])], [1], tmp_path)


def one_by_one(task) -> tuple[dict, list[dict]]:
    tr = Trainer(load_preset(task.preset, task.overrides))
    result = tr.fit()
    b = linear_baseline(tr.data)
    figures = {**summarize([asdict(h) for h in tr.history], result.reason),
               "baseline_val_loss": b.val_mse, "baseline_train_loss": b.train_mse,
               **weight_figures(tr.backend.get_params())}
    return figures, [asdict(h) for h in tr.history]


def without_time(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in ("seconds", "elapsed", "steps_per_second", "reused")}


def test_sweep_on_two_processes_equals_the_runs_done_one_by_one(tmp_path):
    tasks = plan("piecewise-relu", GRID, [1, 2], tmp_path, SMALL)
    with local_executor(2) as ex:
        results = run_tasks(tasks, ex)
    for task, got in zip(tasks, results):
        want, history = one_by_one(task)
        assert without_time(got) == without_time(want)  # floats compared exactly
        rows, _ = read_metrics(Path(task.out_dir) / "metrics.jsonl")
        assert [without_time(r) for r in rows] == [without_time(h) for h in history]
    # a rerun reuses every finished run (nothing is trained again) and reads the same figures back
    seen = []
    again = run_tasks(tasks, None, on_done=lambda i, s: seen.append(s.get("reused")))
    assert seen == [True] * 4
    assert [without_time(a) for a in again] == [without_time(r) for r in results]


def test_a_changed_setting_is_not_reused(tmp_path):
    tasks = plan("piecewise-relu", [], [1], tmp_path, SMALL)
    run_tasks(tasks, None)
    changed = plan("piecewise-relu", [], [1], tmp_path, {**SMALL, "optimizer.lr": 0.02})
    assert run_tasks(changed, None)[0].get("reused") is None


def test_dask_local_cluster_gives_the_same_table_as_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    from dltui.core.experiments.executors import dask_executor

    tasks_local = plan("piecewise-relu", GRID, [1, 2], tmp_path / "local", SMALL)
    tasks_dask = plan("piecewise-relu", GRID, [1, 2], tmp_path / "dask", SMALL)
    with local_executor(2) as ex:
        local = run_tasks(tasks_local, ex)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c:
        with dask_executor(c) as ex:
            remote = run_tasks(tasks_dask, ex)
    assert all((Path(t.out_dir) / "best.safetensors").exists() for t in tasks_dask)

    def table(tasks, results):
        runs = [{"row": t.row, "seed": t.seed, **without_time(r)} for t, r in zip(tasks, results)]
        return build(["[4]", "[8,8]"], runs)

    assert table(tasks_dask, remote) == table(tasks_local, local)


def test_gpu_executor_pins_one_worker_per_device():
    assert parse_gpus("0, 1") == ["0", "1"]
    with pytest.raises(ValueError, match="GPU indices"):
        parse_gpus("cuda0")
    with gpu_executor(["0", "1"]) as ex:
        seen = {ex.submit(os.getenv, "CUDA_VISIBLE_DEVICES").result() for _ in range(4)}
    assert seen <= {"0", "1"} and len(seen) >= 1


def test_table_statistics_and_paired_wins():
    s = stats([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["sd"] == 1.0 and (s["min"], s["max"], s["n"]) == (1.0, 3.0, 3)
    ref = {1: {"best_val_loss": 0.5}, 2: {"best_val_loss": 0.1}, 3: {"best_val_loss": 0.3}}
    mine = {1: {"best_val_loss": 0.2}, 2: {"best_val_loss": 0.2}, 3: {"best_val_loss": 0.2}}
    assert wins(mine, ref, "best_val_loss") == (2, 3)
    runs = [{"row": r, "seed": s, "reason": "completed", **d[s]} for r, d in ((0, ref), (1, mine)) for s in d]
    table = build(["a", "b"], runs)
    assert table[1]["better_than"] == {"row": 0, "metric": "best_val_loss", "wins": 2, "of": 3}
    text = format_table(table)
    assert "better than row 0 on 2/3 seeds" in text and "0.3 ± 0.2" in text


def test_cli_sweep_prints_the_table_writes_json_and_csv(tmp_path, capsys):
    out = tmp_path / "sw"
    rc = main(["sweep", "piecewise-relu", "--grid", "model.hidden=[4],[8,8]", "--seeds", "2", "--jobs", "1",
               "--epochs", "30", "--out", str(out), "--json"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert [e["setting"] for e in doc["table"]] == ["hidden=[4]", "hidden=[8,8]"]
    assert doc["table"][1]["better_than"]["of"] == 2
    saved = json.loads((out / "sweep.json").read_text())
    assert len(saved["runs"]) == 4 and saved["seeds"] == [1, 2]
    assert (out / "table.csv").read_text().splitlines()[0].startswith("row,setting,runs")


@pytest.mark.parametrize("argv, words", [
    (["--grid", "model.hidden"], "expected section.key=value1"),
    (["--grid", "optimizer.lr=0.1,-2"], "optimizer"),
    (["--seeds", "0"], "--seeds 0"),
    (["--metric", "speed"], "--metric 'speed'"),
    (["--gpus", "a,b"], "GPU indices"),
    (["--grid", "optimizer.lr=0.1,0.2", "--ref", "2"], "--ref 2: the sweep has rows 0-1"),
    (["--seed-keys", "seed"], "--seed-keys seed: not a seed key of piecewise-relu; seeds are set by data.seed, "
                              "data.split_seed, training.seed, training.init_seed"),
    (["--seed-keys", "data.split_sed"], "--seed-keys data.split_sed: not a seed key"),
    (["--seed-keys", "model.hidden"], "--seed-keys model.hidden: not a seed key"),
    (["--seed-keys", "training.epochs"], "--seed-keys training.epochs: not a seed key"),  # a whole number, no seed
    (["--grid", "=1,2"], "--grid '=1,2': the key must be section.key"),
    (["--metric", "val_acc"], "--metric val_acc: this sweep's runs are regression"),
])
def test_cli_sweep_bad_input_is_a_clear_error(argv, words, tmp_path, capsys):
    assert main(["sweep", "piecewise-relu", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_ctrl_c_stops_the_sweep_and_keeps_finished_runs(tmp_path):
    out = tmp_path / "sw"
    argv = [sys.executable, "-m", "dltui.tui.cli", "sweep", "piecewise-relu", "--seeds", "12", "--jobs", "1",
            "--epochs", "1000", "--set", "training.patience=0", "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120

    def states() -> list[str]:
        return [p.read_text() for p in out.glob("*/status.json") if p.exists()]

    # a run finished and the next one training (its first epoch done): Ctrl-C stops that one mid-run
    while time.monotonic() < deadline and not (any('"finished"' in t for t in states())
                                               and any('"running"' in t and '"epoch": 0' not in t for t in states())):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "rerun the same command" in stderr
    saved = json.loads((out / "sweep.json").read_text())
    kept = saved["runs"]
    assert saved["table"][0]["runs"] == sum(r["reason"] in ("completed", "early_stop") for r in kept)
    done = [r for r in kept if r["reason"] in ("completed", "early_stop")]
    assert 1 <= len(done) < 12
    # a run may finish on disk just as Ctrl-C comes: the rerun reuses exactly what the folders hold
    on_disk = sum('"finished"' in p.read_text() and '"stopped"' not in p.read_text() for p in out.glob("*/status.json"))
    assert len(done) <= on_disk <= len(done) + 1
    for p in out.glob("*/status.json"):  # the run in flight was stopped as `dltui train` stops one
        st = json.loads(p.read_text())
        assert st["state"] == "finished", (p, st)
        if st["end"]["reason"] == "stopped" and st["end"]["epochs_run"]:
            assert (p.parent / "last.safetensors").exists()
    assert any(json.loads(p.read_text())["end"]["reason"] == "stopped" for p in out.glob("*/status.json"))
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0
    assert again.stderr.count(": reused") == on_disk


def test_a_changed_note_or_claim_still_reuses_the_run(tmp_path):
    from dltui.core.config.spec import shipped_presets

    p = tmp_path / "mine.toml"
    p.write_text(shipped_presets()["piecewise-relu"].read_text())
    first = run_tasks(plan(str(p), [], [1], tmp_path / "sw", SMALL), None)
    p.write_text(p.read_text().replace('note = """', 'note = """Edited. ', 1))
    again = run_tasks(plan(str(p), [], [1], tmp_path / "sw", SMALL), None)
    assert again[0].get("reused") and without_time(again[0]) == without_time(first[0])


def test_a_local_sweep_loads_neither_dask_nor_textual_nor_torch(tmp_path):
    code = ("import sys; from dltui.tui.cli import main; "
            f"rc = main(['sweep', 'xor', '--seeds', '1', '--epochs', '1', '--jobs', '1', '--out', r'{tmp_path}']); "
            "print('LOADED:' + ','.join(n for n in ('dask', 'distributed', 'textual', 'torch') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("LOADED:")


def test_cli_sweep_a_missing_csv_is_one_clear_error_before_training(tmp_path, capsys):
    assert main(["sweep", "hw01-boss", "--data", str(tmp_path / "covid.csv"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "covid.csv: no such file" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_small_weights_is_the_first_layers_fraction_near_zero():
    import numpy as np

    w1 = np.array([[0.001, 0.5], [0.0, -0.005]], dtype=np.float32)
    assert weight_figures([(w1, np.zeros(2)), (np.ones((1, 2)), np.zeros(1))]) == {"small_weights": 0.75}
    assert weight_figures([]) == {}


def test_grid_errors_name_grid_not_set(tmp_path, capsys):
    assert main(["sweep", "piecewise-relu", "--out", str(tmp_path / "x"), "--grid", "model.hidden=a,b"]) == 2
    err = capsys.readouterr().err
    assert "--grid model.hidden" in err and "--set" not in err


def test_a_different_sweep_into_the_same_out_is_refused_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", "xor", "--seeds", "1", "--jobs", "1", "--out", str(out)]
    assert main([*argv, "--epochs", "3"]) == 0
    assert main([*argv, "--epochs", "3"]) == 0  # the same sweep: reused
    capsys.readouterr()
    assert main([*argv, "--epochs", "4"]) == 2
    err = capsys.readouterr().err
    assert "holds a different sweep" in err and "--overwrite" in err
    assert main([*argv, "--grid", "optimizer.lr=0.1,0.2", "--epochs", "3"]) == 2
    assert main([*argv, "--epochs", "4", "--overwrite", "--json"]) == 0
    assert json.loads((out / "sweep.json").read_text())["runs"][0]["epochs_run"] == 4


def test_sweep_help_is_short_wrapped_paragraphs(capsys):
    try:
        main(["sweep", "--help"])
    except SystemExit:
        pass
    text = capsys.readouterr().out
    assert max(map(len, text.splitlines())) <= 100 and "examples:" in text


def test_sweep_runs_write_the_layer_log_like_train(tmp_path):
    from dltui.core.runs.store.layerlog import read_layer_stats

    tasks = plan("piecewise-relu", [], [1], tmp_path, {"training.epochs": 5})
    with local_executor(1) as ex:
        run_tasks(tasks, ex)
    assert read_layer_stats(tasks[0].out_dir)


def test_a_run_left_running_by_a_dead_worker_is_marked_killed(tmp_path):
    from dltui.core.experiments.sweep import mark_abandoned
    from dltui.core.runs.store.folder import RunFolder

    tasks = plan("piecewise-relu", [], [1, 2], tmp_path, SMALL)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    RunFolder(tasks[0].out_dir).path.mkdir(parents=True)
    RunFolder(tasks[0].out_dir).write_status(state="running", started=1.0, epoch=3)
    st = json.loads(RunFolder(tasks[0].out_dir).status.read_text())
    st["pid"] = dead.pid
    RunFolder(tasks[0].out_dir).status.write_text(json.dumps(st))
    assert mark_abandoned(tasks) == [tasks[0].out_dir]
    st = RunFolder(tasks[0].out_dir).read_status()
    assert st["state"] == "finished" and st["end"]["reason"] == "killed"
    assert st["signal"] == "worker killed"


@pytest.mark.parametrize("width", [120, 100, 80])
def test_the_table_fits_the_terminal_width_and_keeps_full_detail_without_one(width):
    runs = [{"row": r, "seed": s, "reason": "completed", "best_val_loss": 0.123456 * (r + s),
             "train_loss": 1.0 / (s + 1), "baseline_val_loss": 1.1234} for r in range(3) for s in range(1, 5)]
    labels = ["hidden=[8,8,8] lr=0.001", "hidden=[56] lr=0.001", "hidden=[56] lr=0.01 activation=sigmoid"]
    table = build(labels, runs)
    full = format_table(table)
    assert max(map(len, full.splitlines())) > 120 and "[" in full.splitlines()[2] and "better than row 0" in full
    fitted = format_table(table, width)
    assert max(map(len, fitted.splitlines())) <= width
    assert "±" in fitted and "beats #0" in fitted


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "sweep-SIGTERM"])
def test_a_worker_stopped_or_killed_leaves_no_run_marked_running(how, tmp_path):
    out = tmp_path / "sw"
    proc = subprocess.Popen([sys.executable, "-m", "dltui.tui.cli", "sweep", "piecewise-relu", "--seeds", "4",
                             "--jobs", "2", "--epochs", "100000", "--set", "training.patience=0", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline, running = time.monotonic() + 120, []
    while time.monotonic() < deadline and not running:
        sts = [json.loads(p.read_text() or "{}") for p in out.glob("*/status.json")]
        running = [s for s in sts if s.get("state") == "running" and s.get("epoch", 0) >= 1]
        time.sleep(0.05)
    if how == "sweep-SIGTERM":  # the sweep itself is told to end (a job scheduler): it stops its workers
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.kill(running[0]["pid"], getattr(signal, how))
    if how == "SIGKILL":
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)  # whatever the parent noticed, the person presses Ctrl-C
    _, stderr = proc.communicate(timeout=120)
    want = {"SIGTERM": (130,), "SIGKILL": (1, 130), "sweep-SIGTERM": (143,)}[how]
    assert proc.returncode in want and "Traceback" not in stderr, stderr
    assert "rerun the same command" in stderr
    for p in out.glob("*/status.json"):  # the killed worker's run says so (tests/test_killed_workers.py)
        st = json.loads(p.read_text())
        want = ("stopped", "killed") if how == "SIGKILL" else ("stopped",)
        assert st["state"] == "finished" and st["end"]["reason"] in want, (p, st)


def test_a_narrow_table_keeps_the_settings_apart_by_their_values():
    labels = [f"hidden={h} lr={lr}" for h in ("[4]", "[8,8,8]") for lr in ("0.01", "0.003")]
    runs = [{"row": r, "seed": s, "reason": "completed", "best_val_loss": 0.1234567 * (r + s),
             "train_loss": 0.2345678 / s, "baseline_val_loss": 0.25632} for r in range(4) for s in (1, 2)]
    lines = format_table(build(labels, runs), 80).splitlines()
    assert max(map(len, lines)) <= 80 and lines[0].startswith("#  hidden lr")
    assert [line.split("  ")[1] for line in lines[2:]] == ["[4] 0.01", "[4] 0.003", "[8,8,8] 0.01", "[8,8,8] 0.003"]
