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
