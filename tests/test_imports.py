"""The core is a library: importing it (NumPy backend) must not load textual, rich or torch."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
import dltui.core as c
for m in pkgutil.walk_packages(c.__path__, "dltui.core."):
    if "torch" not in m.name:
        importlib.import_module(m.name)
from dltui.core import Trainer, load_preset
Trainer(load_preset("xor", {"training.epochs": 1})).fit()
bad = [n for n in ("textual", "rich", "torch") if n in sys.modules]
print("LOADED:" + ",".join(bad))
"""


def test_core_imports_no_terminal_or_torch():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "LOADED:"


def test_headless_cli_train_does_not_import_textual_or_torch(tmp_path):
    code = ("import sys; from dltui.tui.cli import main; "
            f"main(['train', 'xor', '--epochs', '1', '--quiet', '--out', r'{tmp_path}']); "
            "print('LOADED:' + ','.join(n for n in ('textual', 'torch') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("LOADED:")


def test_tracing_checks_and_runs_do_not_import_torch_or_textual(tmp_path):
    code = f"""
import sys
from dltui.core import load_preset
from dltui.core.engine.tracing import trace_batch
from dltui.core.engine.gradcheck import finite_difference_check
from dltui.core.runs import FinishedRun, LiveRun
from dltui.tui.trace_text import trace_text
from dltui.core.training.trainer import Trainer
spec = load_preset("xor", {{"training.epochs": 2}})
tr = trace_batch(spec)
assert finite_difference_check(tr) and trace_text(tr)
Trainer(spec, out_dir=r"{tmp_path}").fit()
run = FinishedRun(r"{tmp_path}"); run.poll()
assert run.trace().result(timeout=30).C > 0
live = LiveRun(spec); live.poll(); live.close()
print("LOADED:" + ",".join(n for n in ("textual", "rich", "torch") if n in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "LOADED:"


def test_dltui_monitor_is_the_top_level_name_and_import_dltui_loads_nothing():
    code = """
import sys
import dltui
assert dltui.__file__, "dltui is a bare namespace package: reinstall (pip install -e .) for dltui/__init__"
before = [n for n in ("numpy", "torch", "dltui.core", "dltui.core.integrations.monitor") if n in sys.modules]
from dltui.core.integrations.monitor import monitor
assert dltui.monitor is monitor and "monitor" in dir(dltui)
try:
    dltui.nope
except AttributeError as e:
    assert "nope" in str(e)
print("BEFORE:" + ",".join(before) + " TORCH:" + str("torch" in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "BEFORE: TORCH:False", out.stderr


def test_a_small_core_module_does_not_load_the_trainer():
    code = """
import sys
import dltui.core.sanitize
names = ("numpy", "dltui.core.data.dataset", "dltui.core.training.trainer")
print("LOADED:" + ",".join(n for n in names if n in sys.modules))
import dltui.core as c
assert c.Trainer is __import__("dltui.core.training.trainer", fromlist=["Trainer"]).Trainer and "Trainer" in dir(c)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "LOADED:", out.stderr


def test_dltui_help_does_not_load_numpy_the_trainer_or_the_data_code():
    code = """
import sys
from dltui.tui.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
names = ("dltui.core.training.trainer", "dltui.core.data.dataset", "dltui.core.experiments.sweep", "numpy", "torch",
         "textual")
print("LOADED:" + ",".join(n for n in names if n in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED:", out.stderr
