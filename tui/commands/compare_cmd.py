"""`dltui compare RUN_OR_SWEEP...`: finished runs side by side in the app."""

from __future__ import annotations


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "compare", help="compare finished runs or sweeps in the app",
        description="Open the compare screen: the loss curves of up to 8 runs overlaid with a legend (a sweep's "
                    "runs grouped by setting, seeds as a min-max band or thin lines), a table of their final and "
                    "best numbers, and the settings that differ. Keys: x x-axis (epochs, updates, seconds), "
                    "l log/linear, v val/train, b band/lines, enter open the selected run read-only (escape "
                    "comes back), ? help, q quit.")
    sp.add_argument("paths", nargs="+", metavar="RUN_OR_SWEEP",
                    help="run folders (as `dltui train --out` writes), sweep folders (`dltui sweep --out`) or a "
                         "folder holding them (runs/: its runs, newest first)")
    sp.set_defaults(run=run)


def run(args) -> int:
    import sys

    from dltui.core.experiments.compare import CompareError, load_targets
    from dltui.tui.common import UserError

    try:
        runs = load_targets(args.paths)
    except CompareError as e:
        raise UserError(str(e)) from None
    if not sys.stdout.isatty():
        from dltui.core.experiments.compare import g4, numbers

        print("dltui compare: needs a terminal for the plot; the numbers:", file=sys.stderr)
        for r in runs:
            n = numbers(r)
            print(f"{n['run']}: {n['state']}, {n['epochs']} epochs, best val {g4(n['best_val_loss'])} "
                  f"at epoch {n['best_epoch']}, final train {g4(n['final_train_loss'])}")
        return 0
    app = compare_app(runs)
    app.run()
    return app.return_code or 0


def compare_app(runs, **kw):
    """The app opened on the compare screen (q quits; a run opened with enter comes back with escape).
    In the running app, C opens the same screen (tui/screens/compare_key.py)."""
    from dltui.tui.app import DltuiApp

    class CompareApp(DltuiApp):
        def on_mount(self, event) -> None:
            event.prevent_default()  # not the picker DltuiApp opens
            self.open_compare(runs)

    return CompareApp(**kw)
