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
    require_level: str | None = None  # xml, host or guest: a skip at or above it fails the case
    parallel: int = field(default_factory=lambda: os.cpu_count() or 2)
    rng_dev_path: str = "/dev/urandom"
    boot_timeout: float = 180.0
    agent_timeout: float = 180.0
    watchdog_timeout: float = 60.0
    exec_driver_timeout: float = 30.0
    rerun_failures: int = 0  # reruns of failed and errored cases (certify --rerun-failures)
    flaky_is_failure: bool = True  # a case that passed only on a rerun keeps the run uncertified
    # feature -> "auto" (run; a level the host cannot run is skipped), "true" (declared
    # present: a skipped level fails the case, as in Tempest) or "false" (not certified).
    features: dict[str, str] = field(default_factory=lambda: {f: "auto" for f in FEATURES})

    @property
    def enabled_features(self) -> list[str]:
        return [f for f in FEATURES if self.features.get(f, "auto") != "false"]

    @property
    def required_features(self) -> list[str]:
        return [f for f in FEATURES if self.features.get(f, "auto") == "true"]


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
    config.require_level = parser.get("run", "require_level", fallback=None) or None
    if config.require_level not in (None, "xml", "host", "guest"):
        raise ConfigError(f"config: [run] require_level must be xml, host or guest, not {config.require_level!r}")
    config.parallel = _number(parser, "run", "parallel", config.parallel, int)
    if config.parallel < 1:
        raise ConfigError("config: [run] parallel must be at least 1")
    config.rerun_failures = _number(parser, "run", "rerun_failures", config.rerun_failures, int)
    if config.rerun_failures < 0:
        raise ConfigError("config: [run] rerun_failures must be 0 or more")
    try:
        config.flaky_is_failure = parser.getboolean("run", "flaky_is_failure", fallback=True)
    except ValueError:
        raise ConfigError("config: [run] flaky_is_failure must be true or false") from None
    config.rng_dev_path = parser.get("host", "rng_dev_path", fallback=config.rng_dev_path)
    for key in ("boot", "agent", "watchdog", "exec_driver"):
        value = _number(parser, "timeouts", key, getattr(config, f"{key}_timeout"), float)
        if value <= 0:
            raise ConfigError(f"config: [timeouts] {key} must be positive")
        setattr(config, f"{key}_timeout", value)
    if parser.has_section("features"):
        for key in parser.options("features"):
            if key not in FEATURES:
                raise ConfigError(f"config: unknown feature {key!r} in [features]")
            config.features[key] = _tristate(parser.get("features", key), key)
    return config


def _tristate(value: str, key: str) -> str:
    word = value.strip().lower()
    if word == "auto":
        return "auto"
    if word in configparser.ConfigParser.BOOLEAN_STATES:
        return "true" if configparser.ConfigParser.BOOLEAN_STATES[word] else "false"
    raise ConfigError(f"config: [features] {key} must be true, false or auto, not {value!r}")
