"""What every host of one certification shares (:class:`Settings`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from conformance.stopping import StopSignals


@dataclass
class Settings:
    """What every host of one certification shares."""
    driver: str
    level: str
    accel: str
    config: object  # conformance.config.Config
    stop: StopSignals
    require: str | None = None
    protocol: int = 2
    progress: str = "auto"  # --cfm-progress of the pytest children
    rerun_failures: int = 0  # --rerun-failures: reruns of failed cases (conformance.run.rerun)
    flaky_is_failure: bool = True  # [run] flaky_is_failure: a flaky case is not certified

    @property
    def scope(self) -> str | None:
        from conformance.contract import scope_of
        return scope_of(self.protocol)

    @property
    def config_path(self) -> str | None:
        return os.path.abspath(self.config.path) if self.config.path else None
