"""`dltui train PRESET`: train without a screen (nohup, tmux, SLURM), writing a run folder.

On a terminal it shows a rich progress bar; otherwise one plain line per epoch (no carriage
returns), so logs stay readable. Ctrl-C stops after the current batch and keeps the checkpoints.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from dltui.core import events as ev
from dltui.core.sanitize import safe


def add_parser(sub) -> None:
    from dltui.tui.common import add_run_options

    sp = sub.add_parser(
        "train", help="train a preset without the app",
        description="Train a preset headless and write a run folder (preset.toml, metrics.jsonl, "
                    "best.safetensors, last.safetensors). Ctrl-C stops cleanly and keeps the best checkpoint.")
    add_run_options(sp, preset_help="a preset name (see `dltui list`) or a path to a .toml file")
    sp.add_argument("--resume", metavar="RUN", help="go on with the run in folder RUN from its last checkpoint "
                    "(weights, optimizer state, shuffles); --epochs N sets the new total")
    sp.add_argument("--out", metavar="DIR", help="run folder (default runs/PRESET-YYYYmmdd-HHMMSS-PID)")
    sp.add_argument("--overwrite", action="store_true",
                    help="replace the run already in --out DIR (otherwise dltui refuses to touch it)")
    sp.add_argument("--every", type=int, default=1, metavar="N",
                    help="without a terminal, print every N-th epoch (default 1)")
    sp.add_argument("--quiet", action="store_true", help="print only the summary")
    sp.add_argument("--layers-every", type=float, default=2.0, metavar="S",
                    help="write per-layer stats (weights, gradients) to layers.jsonl every S seconds, for "
                         "`dltui watch` (default 2; 0 turns it off)")
    sp.add_argument("--tensorboard", metavar="DIR",
                    help="also write TensorBoard event files to DIR: losses, accuracy, lr every epoch; weight and "
                         'gradient histograms every 2 s (needs pip install "dltui[tensorboard]")')
    sp.set_defaults(run=run)


def fmt(x, spec=".4g") -> str:
    return "-" if x is None else format(x, spec)


def epoch_line(e: ev.EpochEnded, epochs: int) -> str:
    parts = [f"epoch {e.epoch}/{epochs}", f"train {fmt(e.train_loss)}"]
    if e.val_loss is not None:
        parts.append(f"val {fmt(e.val_loss)}")
    if e.val_metric is not None:
        parts.append(f"val acc {e.val_metric:.3f}")
    elif e.train_metric is not None:
        parts.append(f"acc {e.train_metric:.3f}")
    parts.append(f"best {fmt(e.best_val_loss)} @ {e.best_epoch}")
    if e.patience_left is not None:
        parts.append(f"patience {e.patience_left}")
    parts.append(f"{e.steps_per_second:,.0f} steps/s")
    return " · ".join(parts)


def say(text: str) -> None:
    """Print a line; if the reader went away (`| head`, a closed SSH session), keep training and stop
    printing."""
    from dltui.core.sanitize import safe

    try:
        print(safe(text), flush=True)
    except OSError:  # a broken pipe, or EIO from a terminal that is gone (SIGHUP)
        stdout_to_devnull()


def stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def guarded(printer):
    """The printer as a trainer callback that a lost terminal cannot stop: the run goes on, silent."""
    def call(event) -> None:
        try:
            printer(event)
        except OSError:
            stdout_to_devnull()

    return call


class PlainPrinter:
    def __init__(self, every: int, quiet: bool):
        self.every, self.quiet, self.epochs = max(1, every), quiet, 0

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.RunStarted):
            self.epochs = e.epochs
            if not self.quiet:
                say(started_line(e))
        elif isinstance(e, ev.EpochEnded) and not self.quiet:
            if e.epoch % self.every == 0 or e.epoch == 1:
                say(epoch_line(e, self.epochs))
        elif isinstance(e, (ev.EarlyStopped, ev.Diverged)):
            say(event_line(e))


def started_line(e: ev.RunStarted) -> str:
    net = "-".join(map(str, e.layer_sizes))
    return (f"{e.preset}: {e.task}, {e.n_train} train / {e.n_val} val rows, net {net} "
            f"({'/'.join(e.activations) or 'linear'}, {e.n_params} parameters), {e.backend} on {e.device}"
            + (f", writing {e.out_dir}" if e.out_dir else ""))


def event_line(e) -> str:
    if isinstance(e, ev.EarlyStopped):
        return (f"early stop at epoch {e.epoch}: no better validation loss for {e.patience} epochs; "
                f"best {e.best_val_loss:.4g} at epoch {e.best_epoch}")
    return f"diverged: {e.message}"


class RichPrinter:
    """A progress bar with the latest epoch's figures on the line below, on a terminal."""

    def __init__(self):
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        from rich.text import Text

        self.console = Console()
        self.progress = Progress(TextColumn("[bold]epoch"), MofNCompleteColumn(), BarColumn(bar_width=None),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.status = Text("")
        self.live = Live(Group(self.progress, self.status), console=self.console, refresh_per_second=8)
        self.task = None
        self.last = 0.0

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.RunStarted):
            self.console.print(safe(started_line(e)), markup=False, highlight=False)
            self.task = self.progress.add_task("epochs", total=e.epochs)
            self.live.start()
        elif isinstance(e, ev.EpochEnded):
            now = time.monotonic()
            if now - self.last > 0.1 or e.epoch == 1:
                self.last = now
                self.status.plain = "  " + epoch_line(e, 0).split(" · ", 1)[1]
                self.progress.update(self.task, completed=e.epoch)
        elif isinstance(e, (ev.EarlyStopped, ev.Diverged)):
            self.console.print(safe(event_line(e)), markup=False, highlight=False)
        elif isinstance(e, (ev.Finished, ev.Failed)):
            if isinstance(e, ev.Finished) and self.task is not None and e.reason == "completed":
                self.progress.update(self.task, completed=e.epochs_run)
            self.live.stop()


def run(args) -> int:
    from dltui.core.runs.store.folder import default_run_dir
    from dltui.core.training.trainer import Trainer
    from dltui.tui import signals
    from dltui.tui.common import UserError, spec_from_args, user_errors

    if args.resume:
        trainer, spec, out = resumed(args)
    else:
        if not args.preset:
            raise UserError("dltui train: name a preset (see `dltui list`), or --resume RUN_FOLDER.")
        spec = spec_from_args(args)
        out = args.out or str(default_run_dir(spec.name))
        check_out_dir(Path(out), args.overwrite)
        trainer = Trainer(spec, out_dir=out, pace=headless_pace(args))
    ensure_writable(Path(out))
    # again, holding the folder: no run can slip in (a resumed run goes on in its own folder)
    check_out_dir(Path(out), args.overwrite or bool(args.resume), lock=True)
    if trainer.backend.auto_reason:
        print(f"auto: {trainer.backend.auto_reason}", file=sys.stderr)
    warned = trainer.backend.warning
    from dltui.core.experiments.baseline import write_baseline  # the linear baseline: cheap, saved beside the metrics

    baseline = write_baseline(out, trainer.data).get("baseline_val_loss")
    if warned:
        print(f"note: {warned}", file=sys.stderr)
    record(args, trainer)
    tty = sys.stdout.isatty() and not args.quiet
    printer = RichPrinter() if tty else PlainPrinter(args.every, args.quiet)

    with signals.stop_after_batch(trainer.stop, signals.stderr_note) as sig:
        try:
            result = trainer.fit(callbacks=[guarded(printer)])
        except signals.Stopped:  # a second signal, e.g. during the final save: what is written stays
            if isinstance(printer, RichPrinter):
                printer.live.stop()  # give the terminal its cursor back
            mark_stopped(trainer, sig["signum"])
            raise
        except user_errors():  # an input problem found while running: exit 2, not "the run failed"
            raise
        except Exception as e:  # a failure inside the run (device lost, out of memory): the checkpoints stay
            print(safe(f"dltui: the run failed: {type(e).__name__}: {e}\nCheckpoints written so far are in "
                       f"{out}."), file=sys.stderr)
            return 1
    late = trainer.backend.warning
    if late and late != warned:  # e.g. a CUDA graph that could not be captured mid-run
        print(f"note: {late}", file=sys.stderr)
    say(summary(result, spec, out, baseline))
    if sig["signum"] is not None:
        mark_stopped(trainer, sig["signum"])
        return signals.exit_code(sig["signum"])
    return 1 if result.reason == "diverged" else 0


def resumed(args):
    """(trainer, spec, folder) going on with ``--resume RUN``: its preset, with --epochs N (the new total)
    and --set overrides; a preset name, --data, --seed, --backend or --out do not apply."""
    from dltui.core.config.spec import parse_override
    from dltui.core.training.resume import resume_trainer
    from dltui.tui.common import UserError

    if args.preset or args.out or args.seed is not None or args.data:
        raise UserError("--resume RUN goes on with that run's own preset, data, seed and folder: give only "
                        "--epochs N (the new total), --set KEY=VALUE or --pace with it.")
    overrides = dict(parse_override(o) for o in args.overrides)
    if args.epochs is not None:
        overrides["training.epochs"] = args.epochs
    trainer = resume_trainer(args.resume, overrides, pace=headless_pace(args))
    if trainer.epoch >= trainer.epochs and trainer.batch >= trainer.batches_per_epoch:
        raise UserError(f"--resume {args.resume}: the run already reached epoch {trainer.epoch} of "
                        f"{trainer.epochs}; add --epochs N with a larger total to train further.")
    return trainer, trainer.spec, args.resume


def headless_pace(args) -> float:
    """Headless runs go at max unless --pace asks (the preset's pace is the app's)."""
    from dltui.core.training.pacing import parse_pace
    from dltui.tui.common import UserError

    if getattr(args, "pace", None) is None:
        return 0.0
    try:
        return parse_pace(args.pace)
    except ValueError as e:
        raise UserError(f"--pace {args.pace}: {e}") from None


def record(args, trainer) -> None:
    """The run folder's writers (``RunFolder.recorders``): the metrics log, layer stats for `dltui watch`
    (layers.jsonl) and, with --tensorboard, TensorBoard event files."""
    from dltui.core.integrations.tensorboard_live import TensorBoardMissing
    from dltui.tui.common import UserError

    every = getattr(args, "layers_every", 2.0)
    if not every >= 0:
        raise UserError(f"--layers-every {every}: give seconds between layer-stat records (0 turns them off).")
    tb = getattr(args, "tensorboard", None)
    try:
        trainer.recorders = trainer.run.recorders(trainer, layers_every=every, tensorboard=tb)
    except TensorBoardMissing as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"--tensorboard {tb}: cannot write there ({e.strerror or e}).") from None


def mark_stopped(trainer, signum: int | None) -> None:
    """Note in status.json which signal stopped the run (the trainer has marked it ended, or, after a
    second signal, nobody has: then it is marked here)."""
    from dltui.tui import signals

    run = trainer.run
    if run is None or not run.path.is_dir():
        return
    st = run.read_status()
    if st.get("state") in (None, "running"):
        st = {**st, "state": "finished", "end": {"reason": "stopped", "epochs_run": len(trainer.history)}}
    st.pop("updated", None)
    st.pop("pid", None)
    try:
        run.write_status(**st, signal=signals.NAMES.get(signum, str(signum)))
    except OSError:
        pass


def check_out_dir(out: Path, overwrite: bool, lock: bool = False) -> None:
    """Refuse a run folder that is a file, cannot be made, is in use by another process, or holds
    another run (unless --overwrite). With ``lock``, take the folder's lock first (held until exit)."""
    from dltui.core.runs.store.folder import RunFolder
    from dltui.tui.common import UserError

    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out}: is a file; a run needs a folder.")
        if lock:
            RunFolder(out).lock()
    except OSError as e:
        raise UserError(f"--out {out}: cannot use that folder ({e.strerror or e}).") from None
    if RunFolder(out).has_run() and not overwrite:
        raise UserError(f"--out {out}: already holds a run (metrics.jsonl or checkpoints). Choose another "
                        "folder, or add --overwrite to replace it.")


def ensure_writable(out: Path) -> None:
    from dltui.tui.common import UserError

    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".dltui-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise UserError(f"--out {out}: cannot write there ({e.strerror or e}).") from None


def summary(result, spec, out: str, baseline: float | None = None) -> str:
    how = {"completed": "finished all epochs", "early_stop": "stopped early", "stopped": "stopped by you",
           "diverged": "diverged"}[result.reason]
    metric = "validation loss" if result.history and result.history[-1].val_loss is not None else "training loss"
    rmse = (f" (RMSE {result.best_val_loss ** 0.5:.4g})"
            if spec.values["loss"]["name"] == "mse" and result.best_val_loss is not None else "")
    lines = [f"{spec.name}: {how} after {result.epochs_run} epochs ({result.steps} steps); "
             f"best {metric} {fmt(result.best_val_loss)}{rmse} at epoch {result.best_epoch}."]
    if result.history and result.history[-1].val_metric is not None:
        best = next((h for h in result.history if h.epoch == result.best_epoch), result.history[-1])
        lines.append(f"validation accuracy at the best epoch: {best.val_metric:.3f}")
    if baseline is not None and result.best_val_loss is not None:
        verdict = "beats" if result.best_val_loss < baseline else "does not beat"
        lines.append(f"linear baseline (least squares, small ridge, same features and split): validation MSE "
                     f"{baseline:.4g}; the network {verdict} it")
    if result.test_loss is not None:
        acc = f", accuracy {result.test_metric:.3f}" if result.test_metric is not None else ""
        lines.append(f"test loss of the best-validation weights (epoch {result.best_epoch}): "
                     f"{fmt(result.test_loss)}{acc} (the test rows took no part in choosing it)")
    lines.append(f"run folder: {out}")
    if any(Path(out).glob("previous-*.safetensors")):  # --overwrite, and this run saved no checkpoint
        lines.append("the overwritten run's checkpoints are kept there as previous-*.safetensors")
    if spec.values["data"]["kind"] == "csv":
        lines.append(f"next: dltui predict {out} --data TEST.csv --out pred.csv")
    return "\n".join(lines)
