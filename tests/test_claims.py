"""Claims as data: the [claim] schema, the verdict, `dltui check` on small presets, and (marked
`claims`) every lesson's claim checked across seeds as shipped, within the CI budget."""

from __future__ import annotations

import pytest
from dltui.core.config.spec import SpecError, load_preset, shipped_presets
from dltui.core.experiments.claims import explain, judge, plan_claim
from dltui.tui.cli import main

# lessons without a claim, each with why (its note says so too)
NO_CLAIM = {"hard-sigmoid-units": "hard vs smooth sigmoid does not differ with room across seeds "
                                  "(benchmarks/claim_spread.py); the note says so",
            "deep-8x3": "deep beats fat on 18 of 28 untuned seeds; even a median of 12 seeds is not safe"}

PRESET = """
[about]
title = "tiny"
[data]
kind = "piecewise"
kinks = 3
n_samples = 64
[model]
hidden = [8]
[optimizer]
lr = 0.01
[training]
epochs = 30
batch_size = 16
[claim]
text = "a tiny claim"
relation = "{relation}"
than_set = ["model.hidden=[1]", "training.epochs=2"]
factor = 1.5
seeds = 2
"""


def write(tmp_path, relation="below", extra=""):
    p = tmp_path / f"tiny-{relation}.toml"
    p.write_text(PRESET.format(relation=relation) + extra)
    return p


def test_claim_schema_defaults_and_errors(tmp_path):
    claim = load_preset(write(tmp_path)).values["claim"]
    assert claim["metric"] == "best_val_loss" and claim["wins"] == 0
    assert claim["seed_keys"] == ["training.seed", "data.seed"]
    assert "claim" not in load_preset("xor").values  # optional: absent where not given
    with pytest.raises(SpecError, match=r"\[claim\] relation = 'under' is not allowed.*below, above"):
        load_preset(write(tmp_path, "under"))
    with pytest.raises(SpecError, match=r"unknown key in \[claim\] 'seed'"):
        load_preset(write(tmp_path, extra='seed = 3\n'))


def test_verdict_counts_seeds_where_the_relation_holds(tmp_path):
    check = plan_claim(write(tmp_path), tmp_path / "cache")
    assert len(check.mine) == len(check.ref) == 2
    assert check.ref[0].overrides["model.hidden"] == [1] and "model.hidden" not in check.mine[0].overrides
    fake = {check.mine[0].out_dir: {"best_val_loss": 0.1}, check.ref[0].out_dir: {"best_val_loss": 0.2},
            check.mine[1].out_dir: {"best_val_loss": 0.1}, check.ref[1].out_dir: {"best_val_loss": 0.12}}
    judge(check, fake)
    assert (check.wins, check.needed, check.holds) == (1, 2, False)  # 0.1*1.5 < 0.2, not < 0.12
    check.claim["wins"] = 1
    assert judge(check, fake).holds
    assert "below the same run's with model.hidden=[1] training.epochs=2 by a factor of 1.5" in check.describe()


def test_cli_check_prints_a_tick_or_a_cross_and_exits_1_when_a_claim_fails(tmp_path, capsys):
    good, bad = write(tmp_path, "below"), write(tmp_path, "above")
    rc = main(["check", str(good), "--out", str(tmp_path / "c"), "--jobs", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and "✓ tiny-below" in out and "holds on 2/2 seeds" in out
    rc = main(["check", str(good), str(bad), "--out", str(tmp_path / "c"), "--jobs", "1"])
    out = capsys.readouterr().out
    assert rc == 1 and "✗ tiny-above" in out and "1/2 claims hold" in out


def test_cli_check_names_a_preset_without_a_claim(tmp_path, capsys):
    assert main(["check", "xor", "--out", str(tmp_path)]) == 2
    assert "xor: no [claim]" in capsys.readouterr().err


def test_every_lesson_preset_states_a_claim():
    lessons = [n for n in shipped_presets() if load_preset(n).values["about"]["topic"] == "lecture"]
    missing = [n for n in lessons if "claim" not in load_preset(n).values and n not in NO_CLAIM]
    assert lessons and not missing
    for n in NO_CLAIM:
        assert "no claim" in load_preset(n).values["about"]["note"].replace("\n", " ")


@pytest.mark.slow
@pytest.mark.claims
@pytest.mark.timeout(2400)  # about a minute on a quiet 2-core machine; a loaded one takes many times that
def test_every_shipped_claim_holds(tmp_path, capsys):
    rc = main(["check", "--out", str(tmp_path / "check")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "✗" not in out


def test_cli_check_json_gives_the_pairs_per_seed(tmp_path, capsys):
    import json

    assert main(["check", str(write(tmp_path)), "--out", str(tmp_path / "c"), "--jobs", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[0]["holds"] and doc[0]["seeds"] == 2 and len(doc[0]["pairs"]) == 2
    mine, ref = doc[0]["pairs"][0]
    assert mine * 1.5 < ref


def test_a_claim_can_compare_a_run_with_its_own_linear_baseline(tmp_path, capsys):
    p = tmp_path / "beats-a-line.toml"
    p.write_text(PRESET.format(relation="below").replace(
        'than_set = ["model.hidden=[1]", "training.epochs=2"]\nfactor = 1.5',
        f'than = "{p}"\nthan_metric = "baseline_val_loss"\nfactor = 2.0').replace("epochs = 30", "epochs = 200"))
    assert main(["check", str(p), "--out", str(tmp_path / "c"), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "baseline val loss by a factor of 2" in out and "holds on 2/2 seeds" in out


def test_check_without_names_skips_csv_claims_when_no_data_is_given(tmp_path, monkeypatch, capsys):
    import dltui.core.config.spec as spec_mod
    from dltui.tui.commands.check_cmd import with_claims

    csv_preset = tmp_path / "hw.toml"
    boss = spec_mod.shipped_presets()["hw01-boss"].read_text().split("\n[claim]")[0]  # its own claim off
    csv_preset.write_text(boss + '\n[claim]\nrelation = "below"\n'
                          'than = "hw01-boss"\nthan_metric = "baseline_val_loss"\nseed_keys = ["training.seed"]\n')
    monkeypatch.setattr(spec_mod, "shipped_presets", lambda: {"hw": csv_preset, "tiny": write(tmp_path)})
    assert with_claims([]) == ["tiny"]
    assert "skipped hw: its claim needs the CSV (--data PATH)" in capsys.readouterr().err
    assert with_claims([], data="covid.train.csv") == ["hw", "tiny"]


def test_check_of_a_named_csv_preset_without_data_says_to_give_it(capsys):
    from dltui.tui.cli import main

    assert main(["check", "hw01-boss"]) == 2  # not 8 failed runs and a bare ✗
    assert "hw01-boss: its claim trains on a CSV file; give it with --data PATH." in capsys.readouterr().err


def test_check_first_seed_runs_fresh_seeds_and_explains_a_failure_in_plain_words(tmp_path, capsys):
    bad = write(tmp_path, "above")  # the tiny claim reversed: it cannot hold
    rc = main(["check", str(bad), "--out", str(tmp_path / "c"), "--jobs", "1", "--first-seed", "40"])
    out = capsys.readouterr().out
    assert rc == 1 and "seeds 40-41" in out
    assert "the lesson's statement did not hold on these seeds: \"a tiny claim\"" in out
    assert "it held on 0 of 2 seeds (seeds 40-41); 2 needed." in out
    assert "not on seed 40: " in out and "seed 41: " in out
    check = plan_claim(bad, tmp_path / "c", first_seed=40)
    assert check.seeds == [40, 41] and [t.overrides["training.seed"] for t in check.mine] == [40, 41]
    assert [t.overrides["data.seed"] for t in check.ref] == [40, 41]


def test_check_refuses_a_negative_first_seed(tmp_path, capsys):
    assert main(["check", str(write(tmp_path)), "--first-seed", "-1", "--out", str(tmp_path / "c")]) == 2
    assert "--first-seed -1: give a seed from 0" in capsys.readouterr().err


def test_a_median_claim_compares_the_medians_over_its_seeds(tmp_path):
    check = plan_claim(write(tmp_path, extra='by = "median"\n'), tmp_path / "cache")
    assert check.by_median and "median best val loss over 2 seeds below" in check.describe()
    m, r = check.mine, check.ref
    # per seed it holds on 1 of 2 (0.1*1.5 < 0.5, not 0.3*1.5 < 0.2) but the medians do: 0.2*1.5 < 0.35
    fake = {m[0].out_dir: {"best_val_loss": 0.1}, r[0].out_dir: {"best_val_loss": 0.5},
            m[1].out_dir: {"best_val_loss": 0.3}, r[1].out_dir: {"best_val_loss": 0.2}}
    judge(check, fake)
    assert check.wins == 1 and check.holds
    fake[r[0].out_dir] = {"best_val_loss": 0.25}  # medians 0.2 vs 0.225: 0.3 is not below 0.225
    assert not judge(check, fake).holds
    fake[r[0].out_dir] = {"best_val_loss": 9.0}
    del fake[m[1].out_dir]  # a run that gave no figure fails the claim, whatever the others say
    assert not judge(check, fake).holds
    assert "medians are" in "\n".join(explain(check))
