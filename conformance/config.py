"""Host-specific settings (tempest.conf style INI), overridden by the command line.

Looked up in: --config FILE, $CONFORMANCE_CONFIG, ./etc/conformance.conf,
/etc/conformance/conformance.conf (first that exists). Sections and keys are listed in
``etc/conformance.conf.example`` and ``docs/configuration.md``.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import HarnessError

SEARCH = ("etc/conformance.conf", "/etc/conformance/conformance.conf")
FEATURES = ("agent", "watchdog", "rng", "pmu", "hidden_hypervisor", "locked_memory")


class ConfigError(HarnessError):
    exit_code = 4


@dataclass
class Config:
    path: str | None = None
    libvirt_uri: str = "qemu:///system"
    accel: str = "auto"
    parallel: int = 2
    rng_dev_path: str = "/dev/urandom"
    boot_timeout: float = 180.0
    exec_driver_timeout: float = 30.0
    features: dict[str, bool] = field(default_factory=lambda: {f: True for f in FEATURES})

    @property
    def enabled_features(self) -> list[str]:
        return [f for f in FEATURES if self.features.get(f, True)]


def _number(parser, section, key, default, kind):
    try:
        return kind(parser.get(section, key, fallback=str(default)))
    except ValueError:
        raise ConfigError(f"config: [{section}] {key} must be a number") from None


def load(path: str | None = None) -> Config:
    """Load the config (defaults when no file exists); ConfigError names what is wrong."""
    explicit = path or os.environ.get("CONFORMANCE_CONFIG")
    candidates = [explicit] if explicit else [p for p in SEARCH if Path(p).exists()]
    if not candidates:
        return Config()
    chosen = candidates[0]
    parser = configparser.ConfigParser()
    try:
        with open(chosen) as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config {chosen}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise ConfigError(f"config {chosen} is not valid INI: {str(exc).splitlines()[0]}") from None
    config = Config(path=chosen)
    config.libvirt_uri = parser.get("libvirt", "uri", fallback=config.libvirt_uri)
    config.accel = parser.get("run", "accel", fallback=config.accel)
    if config.accel not in ("auto", "kvm", "qemu"):
        raise ConfigError(f"config: [run] accel must be auto, kvm or qemu, not {config.accel!r}")
    config.parallel = _number(parser, "run", "parallel", config.parallel, int)
    config.rng_dev_path = parser.get("host", "rng_dev_path", fallback=config.rng_dev_path)
    config.boot_timeout = _number(parser, "timeouts", "boot", config.boot_timeout, float)
    config.exec_driver_timeout = _number(parser, "timeouts", "exec_driver", config.exec_driver_timeout, float)
    if parser.has_section("features"):
        for key in parser.options("features"):
            if key not in FEATURES:
                raise ConfigError(f"config: unknown feature {key!r} in [features]")
            try:
                config.features[key] = parser.getboolean("features", key)
            except ValueError:
                raise ConfigError(f"config: [features] {key} must be true or false") from None
    return config
