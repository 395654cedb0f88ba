"""Every error type the core raises for a person to read, in one place (no imports: any module can
use them without tying itself to another). The CLI prints these without a traceback and exits 2;
``DeviceFailure`` is a failure during training (the run ends with a Failed event)."""

from __future__ import annotations


class SpecError(ValueError):
    """A preset or an override is wrong. The message is meant for a person."""


class DataError(ValueError):
    """A data file or data setting is wrong. The message is meant for a person."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated or not a dltui checkpoint."""


class BackendError(RuntimeError):
    """The chosen backend or device cannot be used. The message is meant for a person."""


class DeviceError(BackendError):
    """The asked-for device is not there. The message is meant for a person (the CLI exits 2)."""


class DeviceFailure(RuntimeError):
    """The device failed during training (out of memory, a lost GPU). The message is meant for a person."""


class RunBusy(ValueError):
    """Another live process holds this run folder. The message is meant for a person."""


# what a person can fix: a bad preset, data file, checkpoint, backend or device, a run folder in use
USER_ERRORS: tuple[type[Exception], ...] = (SpecError, DataError, CheckpointError, BackendError, RunBusy)
