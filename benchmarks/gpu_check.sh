#!/usr/bin/env bash
# One GPU check of the torch backend, for a machine with an NVIDIA GPU and torch preinstalled but
# no network and no dltui install (textual/rich/plotext not needed). Run from the repository root:
#
#     bash benchmarks/gpu_check.sh            # logs to $OUT if set, else /tmp/dltui-gpu-check
#
# It makes `import dltui.core` work through symlinks (nothing is fetched or installed), then runs
# the gpu-marked tests, the CPU parity tests (on this machine's torch version), a short headless
# training run on CUDA (eager and CUDA graph), `dltui devices`, and the benchmark; then (issue 15) the
# system panel against nvidia-smi, `dltui bench` and `--backend auto` with the real probe (a tiny net
# and a wide one), and the monitor's overhead. About 4-5 minutes; each part has its own time limit, and
# the limits add up to 9 minutes (under the device's 10-minute cap for one command). Without a GPU it still runs
# (the gpu tests skip and the benchmark measures the CPU), which is how it was checked.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG=${OUT:-/tmp/dltui-gpu-check}
mkdir -p "$LOG"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

PKG=$(mktemp -d /tmp/dltui-pkg.XXXXXX)
mkdir -p "$PKG/dltui"
ln -s "$ROOT/core" "$PKG/dltui/core"
ln -s "$ROOT/tui" "$PKG/dltui/tui"
ln -s "$ROOT/presets" "$PKG/dltui/presets"
ln -s "$ROOT/core/_package/__init__.py" "$PKG/dltui/__init__.py"  # dltui.monitor
export PYTHONPATH="$PKG${PYTHONPATH:+:$PYTHONPATH}"

status=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $LOG/NAME.log, remember failures
  local name=$1 limit=$2
  shift 2
  echo "=== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*" | tee -a "$LOG/summary.txt"
  timeout --kill-after=5 "$limit" "$@" > "$LOG/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$LOG/$name.log"
  echo "=== $name: exit $rc" | tee -a "$LOG/summary.txt"
  [ $rc -eq 0 ] || status=1
}

: > "$LOG/summary.txt"
{
  echo "host: $(hostname)  date: $(date -u)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $PY -c 'import sys, numpy, torch; print("python", sys.version.split()[0], "numpy", numpy.__version__,
"torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'
  $PY -c 'import dltui.core, dltui.core.backends.torch_backend as t; print("dltui.core from", dltui.core.__path__[0])'
} 2>&1 | tee -a "$LOG/summary.txt"

step devices 20 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["devices"]))'
step gpu_tests 60 $PY -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py tests/test_trace.py -rs
step parity_tests 45 $PY -m pytest -q -p no:cacheprovider tests/test_torch_backend.py -x
step train_cuda 30 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["train", "spiral",
  "--backend", "torch", "--device", "auto", "--epochs", "30", "--every", "10", "--out", "/tmp/dltui-run-eager", "--overwrite"]))'
step train_graph 30 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["train", "spiral",
  "--backend", "torch", "--device", "auto", "--epochs", "30", "--every", "10", "--set", "training.graph=true",
  "--out", "/tmp/dltui-run-graph", "--overwrite"]))'
step bench 60 $PY benchmarks/bench_torch.py --repeats 15
# issue 15: the system panel (NVML) against nvidia-smi, auto selection by the real probe, the graph path
step panel 30 $PY benchmarks/panel_check.py
step panel_top 15 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["top", "--once"]))'
step gpubox_tests 60 $PY -m pytest -q -p no:cacheprovider tests/test_sysinfo.py tests/test_autodevice.py \
  tests/test_layerlog.py tests/test_monitor.py tests/test_tboard.py tests/test_tboard_export.py -rs
step bench_cmd 40 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["bench", "spiral"]))'
step auto_probe 50 $PY benchmarks/auto_check.py
step train_auto 40 $PY -c 'import sys; from dltui.tui.cli import main; sys.exit(main(["train", "spiral",
  "--backend", "auto", "--epochs", "30", "--every", "10", "--out", "/tmp/dltui-run-auto", "--overwrite"]))'
step bench_monitor 60 $PY benchmarks/bench_monitor.py --seconds 5

rm -rf "$PKG"
echo "gpu_check: $([ $status -eq 0 ] && echo all parts passed || echo SOME PARTS FAILED); logs in $LOG" \
  | tee -a "$LOG/summary.txt"
exit $status
