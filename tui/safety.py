"""How the CLI ends: every ending gets a short message and an exit code, never a traceback.

0 ok; 1 the run failed or diverged (or dltui itself failed: set DLTUI_DEBUG=1 for the traceback);
2 a usage or input problem; 128 + N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
Every message goes through the sanitiser, and the output streams survive a closed stdout and
an ASCII-only encoding.
"""

from __future__ import annotations

import difflib
import os
import sys

from dltui.core.sanitize import safe


def prepare_streams() -> None:
    """A closed stdout/stderr (``>&-``) becomes /dev/null; characters the encoding lacks (the ``·``
    of a progress line under PYTHONIOENCODING=ascii) are written as escapes instead of failing."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives until exit
            continue
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def say_error(e: BaseException | str, prefix: str = "dltui: error: ") -> None:
    try:
        print(f"{prefix}{safe(e)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def ending(e: BaseException) -> int:
    """The exit code (and message) for an exception that reached ``main``."""
    from dltui.tui import signals
    from dltui.tui.common import user_errors

    if isinstance(e, SystemExit):
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if isinstance(e, signals.Stopped):
        say_error(f"stopped by {e.name}; files already written are kept.", "dltui: ")
        return e.code
    if isinstance(e, KeyboardInterrupt):
        say_error("stopped by Ctrl-C; files already written are kept.", "dltui: ")
        return 130
    if isinstance(e, BrokenPipeError):
        _quiet_stdout()
        return 0
    if isinstance(e, user_errors()):
        say_error(e)
        return 2
    if os.environ.get("DLTUI_DEBUG"):
        raise e
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        say_error(f"{where}{e.strerror or e}. Check the path and that it can be read or written there.")
        return 2
    if isinstance(e, RecursionError):
        say_error("an input is nested too deeply to read (brackets or tables inside each other).")
        return 2
    if isinstance(e, MemoryError):
        say_error("out of memory. Use a smaller model, batch or data set.")
        return 1
    say_error(f"dltui failed: {type(e).__name__}: {e}. Run again with DLTUI_DEBUG=1 for the details, "
              "and please report it.")
    return 1


def _quiet_stdout() -> None:
    """After a reader went away (`| head`), send what is left to /dev/null so the exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def check_command_name(argv: list[str], commands: set[str]) -> None:
    """`dltui trian xor`: say that 'trian' is not a command (and which one was meant), instead of
    argparse's 'unrecognized arguments: xor' from the app's parser."""
    if not argv or argv[0].startswith("-") or argv[0] in commands:
        return
    word = argv[0]
    from dltui.core.config.spec import shipped_presets

    if word in shipped_presets() or os.path.exists(word):
        return
    extra = [a for a in argv[1:] if not a.startswith("-")]
    presets = sorted(shipped_presets())
    # the nearest of all the words `dltui WORD` takes: a command, or a preset (`dltui xorr` means xor)
    close = difflib.get_close_matches(word, sorted(commands) + presets, n=1, cutoff=0.6)
    if not close and not extra:
        return  # `dltui NAME`: the app's own message (no such preset) is the right one
    from dltui.tui.common import UserError

    hint = ""
    if close:
        hint = (f" Did you mean `dltui {close[0]}`?" if close[0] in commands else
                f" Did you mean the preset `{close[0]}`?")
    raise UserError(f"'{word}' is neither a command nor a preset.{hint} Commands: "
                    f"{', '.join(sorted(commands))}; presets: `dltui list`.")
