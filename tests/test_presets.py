"""The shipped preset library: every preset validates, teaches (a 2-5 line note), and trains a
few epochs headless on the NumPy backend (and on torch, once that backend exists). CSV presets
train on a small synthetic file with the HW1 column layout, so these tests need no real data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.config.spec import TOPICS, shipped_presets
from dltui.core.data.dataset import GENERATORS, DataError, load_dataset

PRESETS = sorted(shipped_presets())
CSV_PRESETS = [n for n in PRESETS if load_preset(n).values["data"]["kind"] == "csv"]

# The HW1 layouts: 2022 has 37 states and 5 days x 16 features, 2021 has 40 states, 3 days x 18.
STATES_2022 = ("AL AK AZ AR CA CO CT FL GA ID IL IN IA KS KY LA MD MA MI MN MS MO NE NV NJ NM NY NC OH OK "
               "OR RI SC TX UT VA WA").split()
STATES_2021 = ("AL AK AZ AR CA CO CT FL GA ID IL IN IA KS KY LA MD MA MI MN MS MO NE NV NJ NM NY NC OH OK "
               "OR PA RI SC TX UT VA WA WV WI").split()
DAY_2022 = ("cli ili hh_cmnty_cli nohh_cmnty_cli wearing_mask travel_outside_state work_outside_home shop "
            "restaurant spent_time large_event public_transit anxious depressed worried_finances "
            "tested_positive").split()
DAY_2021 = ("cli ili hh_cmnty_cli nohh_cmnty_cli wearing_mask travel_outside_state work_outside_home shop "
            "restaurant spent_time large_event public_transit anxious depressed felt_isolated "
            "worried_become_ill worried_finances tested_positive").split()
LAYOUTS = {2022: (STATES_2022, DAY_2022, 5), 2021: (STATES_2021, DAY_2021, 3)}


def hw1_like_csv(path, year: int = 2022, rows: int = 200, target: bool = True, seed: int = 0):
    """A synthetic CSV with HW1's header (names repeat per day); tested_positive follows cli."""
    states, day, days = LAYOUTS[year]
    rng = np.random.default_rng(seed)
    header = ["id", *states] + day * days
    if not target:
        header = header[:-1]
    state = np.eye(len(states))[rng.integers(len(states), size=rows)]
    cells = rng.uniform(0, 30, size=(rows, len(day) * days))
    tp = [j for j, h in enumerate(day * days) if h == "tested_positive"]
    cli = [j for j, h in enumerate(day * days) if h == "cli"]
    cells[:, tp] = 2.0 * cells[:, cli] + rng.normal(0, 1, (rows, len(tp)))
    values = np.c_[np.arange(rows), state, cells][:, :len(header)]
    lines = [",".join(header)] + [",".join(f"{v:.6g}" for v in r) for r in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def quick(name: str, csv_path=None, epochs: int = 3) -> dict:
    """Overrides that make any preset train for a few epochs (and on a CSV where it needs one)."""
    ov: dict = {"training.epochs": epochs}
    if name in CSV_PRESETS:
        ov["data.path"] = str(csv_path)
    return ov


@pytest.fixture(scope="module")
def hw1_csv(tmp_path_factory):
    return hw1_like_csv(tmp_path_factory.mktemp("csv") / "covid-like.csv")


# ---------------------------------------------------------------- the library as a whole


def test_the_library_covers_the_issue():
    names = set(PRESETS)
    for want in ["piecewise-sigmoid", "piecewise-relu", "kinks-3-sigmoids", "kinks-24-sigmoids",
                 "smooth-2-relus", "smooth-32-relus", "features-linear", "features-relu", "views-linear",
                 "views-1-layer", "views-3-layers", "fat-56", "deep-8x3", "overfit-early-stop", "batch-1",
                 "batch-full", "batch-mini", "circles", "xor", "gauss", "spiral", "moons", "spiral-l1",
                 "spiral-l2", "hw01-sample", "hw01-strong", "hw01-boss", "hw01-covid", "csv-regression"]:
        assert want in names, f"missing preset {want}"
    by_topic = {t: [n for n in PRESETS if load_preset(n).values["about"]["topic"] == t] for t in TOPICS}
    assert all(by_topic[t] for t in TOPICS), by_topic
    kinds = {load_preset(n).values["data"]["kind"] for n in by_topic["playground"]}
    assert {"circles", "xor", "gauss", "spiral", "moons"} <= kinds


@pytest.mark.parametrize("name", PRESETS)
def test_preset_validates_and_teaches(name):
    spec = load_preset(name)
    about = spec.values["about"]
    assert about["title"].strip()
    assert about["topic"] in TOPICS
    lines = [ln for ln in about["note"].strip().splitlines() if ln.strip()]
    assert 2 <= len(lines) <= 5, f"{name}: the note has {len(lines)} lines"
    assert all(len(ln) <= 100 for ln in lines), f"{name}: a note line is too long for the app"
    # loss fits the data: generators declare their task
    kind = spec.values["data"]["kind"]
    if kind != "csv":
        assert GENERATORS[kind].task == spec.task
    # the resolved preset round-trips through TOML (what a run folder stores)
    assert load_preset(name).to_toml() == spec.to_toml()


def test_orders_are_unique_within_a_topic():
    seen: dict = {}
    for n in PRESETS:
        a = load_preset(n).values["about"]
        key = (a["topic"], a["order"])
        assert key not in seen, f"{n} and {seen.get(key)} share topic/order {key}"
        seen[key] = n


def test_list_groups_presets_by_topic(capsys):
    from dltui.tui.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    heads = {"lecture": "From the lecture", "playground": "TensorFlow Playground", "hw01": "HW1",
             "template": "Templates"}
    pos = {t: out.index(h) for t, h in heads.items()}
    for n in PRESETS:
        topic = load_preset(n).values["about"]["topic"]
        at = out.index(f"  {n} ")
        later = [p for p in pos.values() if p > pos[topic]]
        assert pos[topic] < at < min(later, default=len(out)), f"{n} is not listed under {topic}"


def test_csv_preset_without_data_says_what_it_needs(capsys):
    from dltui.tui.cli import main

    for name in CSV_PRESETS:
        assert main(["train", name, "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert "--data" in err and "Traceback" not in err
        assert load_preset(name).values["data"]["needs"].split()[0] in err


# ---------------------------------------------------------------- training, numpy and torch


def _check_run(name, result, epochs):
    assert result.reason == "completed", f"{name}: {result.reason}"
    assert len(result.history) == epochs
    for row in result.history:
        assert math.isfinite(row.train_loss) and math.isfinite(row.val_loss), name


@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_a_few_epochs_numpy(name, hw1_csv):
    spec = load_preset(name, quick(name, hw1_csv))
    tr = Trainer(spec, backend="numpy")
    _check_run(name, tr.fit(), 3)
    if spec.task == "classification":
        assert 0.0 <= tr.history[-1].val_metric <= 1.0


@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_a_few_epochs_torch(name, hw1_csv):
    pytest.importorskip("torch")
    pytest.importorskip("dltui.core.backends.torch_backend")
    spec = load_preset(name, {**quick(name, hw1_csv), "training.backend": "torch", "training.device": "cpu"})
    tr = Trainer(spec)
    assert tr.backend.name == "torch"
    _check_run(name, tr.fit(), 3)


# ---------------------------------------------------------------- HW1 presets on both layouts


@pytest.mark.parametrize("year", [2022, 2021])
@pytest.mark.parametrize("name", [n for n in CSV_PRESETS if n.startswith("hw01")])
def test_hw1_presets_name_columns_and_fit_both_editions(name, year, tmp_path):
    spec = load_preset(name, {"data.path": str(hw1_like_csv(tmp_path / "c.csv", year))})
    feats = spec.values["data"]["features"]
    for sel in [feats] if isinstance(feats, str) else feats:
        assert not sel.lstrip("-").isdigit(), f"{name} picks column {sel} by index: the editions differ"
    if (118 if year == 2022 else 95) not in spec.values["data"]["n_columns"]:  # a one-edition preset
        with pytest.raises(DataError, match="covid.train.csv"):
            load_dataset(spec)
        return
    d = load_dataset(spec)
    names = d.features.names
    assert "tested_positive" in names or spec.values["data"]["top_k"]
    assert d.features.target == "tested_positive"
    # the target column (the last day's tested_positive) is never a feature
    states, day, days = LAYOUTS[year]
    assert ["tested_positive", days - 1] not in d.features.columns
    assert ["tested_positive", days - 2] in d.features.columns or spec.values["data"]["top_k"]
    assert d.n_features < 1 + len(states) + len(day) * days


def test_hw1_sample_is_the_course_recipe():
    v = load_preset("hw01-sample").values
    assert v["data"]["features"] == "all" and v["data"]["drop"] == [] and v["data"]["normalize"] is False
    assert v["data"]["top_k"] == 0 and v["data"]["valid_ratio"] == 0.2
    assert v["model"] == {**v["model"], "hidden": [16, 8], "activation": "relu", "init": "torch"}
    assert (v["optimizer"]["name"], v["optimizer"]["lr"], v["optimizer"]["momentum"]) == ("sgd", 1e-5, 0.9)
    t = v["training"]
    assert (t["batch_size"], t["epochs"], t["patience"], t["seed"]) == (256, 3000, 400, 5201314)


def test_hw1_sample_uses_every_column_including_id(tmp_path):
    d = load_dataset(load_preset("hw01-sample", {"data.path": str(hw1_like_csv(tmp_path / "c.csv"))}))
    assert d.features.names[0] == "id"
    assert d.n_features == 1 + 37 + 5 * 16 - 1
    assert d.features.mean is None  # no normalisation


# ---------------------------------------------------------------- the synthetic daily-views series


def test_views_windows_slide_over_one_seeded_series():
    fn = GENERATORS["views"].fn
    g = fn(np.random.default_rng(0), n_samples=300, window=7)
    assert g.x.shape == (300, 7) and g.y.shape == (300,)
    assert g.feature_names == [f"day-{k}" for k in range(7, 0, -1)]
    # inputs are the previous days, the target is the next one
    np.testing.assert_array_equal(g.x[1:, :-1], g.x[:-1, 1:])
    np.testing.assert_array_equal(g.y[:-1], g.x[1:, -1])
    assert (g.y >= 0).all()
    again = fn(np.random.default_rng(0), n_samples=300, window=7)
    other = fn(np.random.default_rng(1), n_samples=300, window=7)
    np.testing.assert_array_equal(g.x, again.x)
    assert not np.allclose(g.y, other.y)


def test_views_has_a_weekly_rhythm_and_a_trend():
    g = GENERATORS["views"].fn(np.random.default_rng(3), n_samples=700, window=1, spikes=0.0, noise=0.0)
    v = g.y
    # detrended by a centred 7-day mean, the series repeats every 7 days
    wk = np.convolve(v, np.ones(7) / 7, mode="valid")
    ratio = v[3:-3] / wk
    assert np.abs(ratio[7:] - ratio[:-7]).max() < 0.05
    assert ratio.max() - ratio.min() > 0.3  # weekends are clearly lower
    assert v[-100:].mean() > v[:100].mean() * 1.3  # upward trend


def test_views_window_is_checked():
    from dltui.core.config.spec import SpecError

    with pytest.raises(SpecError, match="window"):
        load_dataset(load_preset("views-linear", {"data.window": 0}))


# ---------------------------------------------------------------- the command line, end to end


def test_cli_trains_a_hw1_preset_and_predicts(tmp_path, capsys):
    from dltui.tui.cli import main

    train_csv = hw1_like_csv(tmp_path / "train.csv", rows=120)
    test_csv = hw1_like_csv(tmp_path / "test.csv", rows=30, target=False, seed=1)
    run = tmp_path / "run"
    assert main(["train", "hw01-boss", "--data", str(train_csv), "--set", "training.epochs=4",
                 "--set", "model.hidden=[8]", "--out", str(run), "--quiet"]) == 0
    assert main(["predict", str(run), "--data", str(test_csv), "--out", str(tmp_path / "pred.csv")]) == 0
    lines = (tmp_path / "pred.csv").read_text().splitlines()
    assert lines[0] == "id,tested_positive" and len(lines) == 31
    assert [ln.split(",")[0] for ln in lines[1:]] == [str(i) for i in range(30)]
    assert all(math.isfinite(float(ln.split(",")[1])) for ln in lines[1:])
    capsys.readouterr()
