"""A CSV preset knows its file: the HW1 test CSV, or the 2021 file for a 2022-only preset, is
refused with a message naming the file the preset expects (CLI exit 2, and in the app's picker);
predict refuses a file that lacks the model's columns."""

from __future__ import annotations

import asyncio

import pytest
from dltui.core import load_preset
from dltui.core.data.dataset import DataError, load_dataset
from dltui.tui.cli import main
from test_presets import hw1_like_csv


def test_hw1_presets_use_the_course_split_and_know_their_file():
    for name in ("hw01-sample", "hw01-strong", "hw01-boss", "hw01-covid"):
        d = load_preset(name).values["data"]
        assert d["split"] == "course" and "covid.train.csv" in d["file"] and 118 in d["n_columns"]
    assert load_preset("hw01-covid").values["data"]["n_columns"] == [118]  # 2022 only


def test_the_test_file_is_refused_naming_the_training_file(tmp_path, capsys):
    test_csv = hw1_like_csv(tmp_path / "covid.test.csv", rows=40, target=False)
    for name in ("hw01-boss", "hw01-covid", "hw01-sample"):
        code = main(["train", name, "--data", str(test_csv), "--out", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert "117 columns" in err and "covid.train.csv" in err and "test file" in err
        assert not (tmp_path / name / "metrics.jsonl").exists()


def test_the_2021_file_is_refused_by_a_2022_only_preset(tmp_path):
    f2021 = hw1_like_csv(tmp_path / "covid.train.csv", year=2021, rows=60)
    with pytest.raises(DataError, match=r"has 95 columns.*ML2022.*118 columns"):
        load_dataset(load_preset("hw01-covid", {"data.path": str(f2021)}))
    ds = load_dataset(load_preset("hw01-boss", {"data.path": str(f2021)}))  # boss takes both editions
    assert ds.n_features > 0


def test_the_real_test_files_are_refused(hw1_2022, hw1_2021, capsys):
    code = main(["train", "hw01-boss", "--data", str(hw1_2022 / "covid.test.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "covid.train.csv" in err and "117 columns" in err
    code = main(["train", "hw01-covid", "--data", str(hw1_2021 / "covid.train.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "ML2022" in err and "95 columns" in err


def test_a_preset_without_a_file_check_takes_any_layout(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,y\n" + "\n".join(f"{i},{i % 3},{i % 5}" for i in range(30)) + "\n")
    ds = load_dataset(load_preset("csv-regression", {"data.path": str(f), "data.target": "y"}))
    assert ds.n_features == 2


def test_predict_refuses_a_file_without_the_models_columns(tmp_path, capsys):
    train = hw1_like_csv(tmp_path / "train.csv", rows=80)
    run = tmp_path / "run"
    assert main(["train", "hw01-boss", "--data", str(train), "--epochs", "2", "--out", str(run), "--quiet"]) == 0
    other = hw1_like_csv(tmp_path / "other.csv", year=2021, rows=10, target=False)
    code = main(["predict", str(run), "--data", str(other), "--out", str(tmp_path / "pred.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "lacks" in err and "Traceback" not in err
    assert not (tmp_path / "pred.csv").exists()


def test_the_app_refuses_the_test_file_in_the_picker(tmp_path):
    pytest.importorskip("textual")
    from dltui.tui.app import DltuiApp
    from dltui.tui.screens.picker import PickerScreen
    from textual.widgets import Input, Static

    test_csv = hw1_like_csv(tmp_path / "covid.test.csv", rows=40, target=False)

    async def go():
        app = DltuiApp(scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"hw01-boss", "enter")
            await pilot.pause()
            app.screen.query_one("#data-path", Input).value = str(test_csv)
            await pilot.press("enter")
            await pilot.pause()
            msg = str(app.screen.query_one("#data-msg", Static).render())
            assert "117 columns" in msg and "covid.train.csv" in msg
            assert isinstance(app.screen, PickerScreen)

    asyncio.run(go())
