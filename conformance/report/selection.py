"""Which catalogue cases a certification runs, and which cases a pytest item covers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from conformance.errors import HarnessError

LEVEL_ORDER = ("xml", "host", "guest")
XML_TESTS = ("test_case", "test_case_defines_in_libvirt")


def item_cases(item) -> tuple[str, list[str], str] | None:
    """(feature, case ids, level) a conformance item verifies; None for harness self-tests."""
    params = {key: value for key, value in getattr(getattr(item, "callspec", None), "params", {}).items()
              if hasattr(value, "feature") or key == "locked_groups"}  # not pytest's NOTSET
    name = getattr(item, "originalname", None) or item.name
    if "case" in params and name in XML_TESTS:
        case = params["case"]
        return case.feature, [case.id], "xml"
    if "live_group" in params:
        check = params["live_group"]
        if not hasattr(check, "feature"):  # an empty parametrization's placeholder (NOTSET)
            return None
        level = "host" if name == "test_host" else "guest"
        return check.feature, list(check.group.case_ids(check.feature)), level
    if "live_case" in params:  # the driver must build the domain to boot: host and guest
        case = params["live_case"]
        return case.feature, [case.id], "live"
    if isinstance(params.get("locked_groups"), tuple):  # the prediction backs locked cases' host level
        ids = [i for g in params["locked_groups"] for i in g.case_ids("locked_memory")]
        return "locked_memory", ids, "host"
    return None


def read_list(path: str) -> list[str]:
    """An include/exclude list: one regex or case id per line, '#' comments (tempest style)."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise SelectionError(f"cannot read list {path}: {exc.strerror}") from None
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


class SelectionError(HarnessError):
    exit_code = 2


@dataclass
class Selection:
    features: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    regex: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_level: str = "guest"
    operations: list[str] = field(default_factory=list)  # empty: every operation

    def __post_init__(self):
        for pattern in self.regex + self.include + self.exclude:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SelectionError(f"bad regular expression {pattern!r}: {exc}") from None
        if self.max_level not in LEVEL_ORDER:
            raise SelectionError(f"unknown level {self.max_level!r}")

    def case_wanted(self, case) -> bool:
        """Whether a catalogue case is selected (by feature, id, regex, include/exclude)."""
        text = f"{case.id} {case.feature} {case.name} {case.feature}-{case.name}"
        if self.features and case.feature not in self.features:
            return False
        if self.operations and getattr(case, "operation", "create") not in self.operations:
            return False
        if self.ids and not any(case.id.startswith(i) for i in self.ids):
            return False
        if self.regex and not any(re.search(r, text) for r in self.regex):
            return False
        if self.include and not any(re.search(r, text) for r in self.include):
            return False
        return not any(re.search(r, text) for r in self.exclude)

    def wants(self, feature: str, ids: list[str], level: str) -> bool:
        from conformance.catalogue import by_id
        depth = LEVEL_ORDER.index("host" if level == "live" else level)
        if depth > LEVEL_ORDER.index(self.max_level):
            return False
        return any(self.case_wanted(by_id(i)) for i in ids if _known(i))

    def save(self, path: str) -> None:
        with open(path, "w") as out:
            json.dump(self.__dict__, out)

    @classmethod
    def load(cls, path: str) -> "Selection":
        with open(path) as handle:
            return cls(**json.load(handle))


def _known(case_id: str) -> bool:
    from conformance.catalogue import by_id
    try:
        by_id(case_id)
        return True
    except (KeyError, LookupError):
        return False
