"""`dltui top`: the system panel on its own - GPUs (NVML), their processes, the host's CPU and RAM."""

from __future__ import annotations

import sys
import time


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "top", help="the system panel: GPU use, memory, temperature, power, processes; CPU and RAM",
        description="Show each GPU's utilisation, memory, temperature and power as short histories, the "
                    "processes on it, and the host's CPU and RAM, refreshing. GPU figures need nvidia-ml-py "
                    '(pip install "dltui[gpu]"); without it, or without a driver, only the host is shown. '
                    "Without a terminal (or with --once) it prints one sample as plain lines.")
    sp.add_argument("--interval", type=float, default=1.0, metavar="S",
                    help="seconds between samples (default 1; at least 0.1)")
    sp.add_argument("--once", action="store_true", help="print one sample as plain text and exit")
    sp.set_defaults(run=run)


def run(args) -> int:
    from dltui.core.integrations.sysinfo import Sampler, panel_lines
    from dltui.tui.common import UserError

    if not args.interval >= 0.1:
        raise UserError(f"--interval {args.interval}: give a number of seconds of at least 0.1.")
    if args.once or not sys.stdout.isatty():
        s = Sampler()
        s.sample_once()  # psutil's CPU figure is "since the last call": take two samples
        time.sleep(min(args.interval, 0.5))
        s.sample_once()
        s.close()
        from dltui.tui.screens.system import with_hints

        print("\n".join(with_hints(panel_lines(s), s)), flush=True)
        return 0
    from dltui.tui.screens.system import TopApp

    TopApp(interval=args.interval).run()
    return 0
