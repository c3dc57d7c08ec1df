"""Verdict: the judgement of one catalogue case for one driver (serialisable)."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS = ("xml", "host", "guest")
OUTCOMES = ("pass", "fail", "skip", "error")


@dataclass
class Verdict:
    """``level`` is the deepest level reached; ``evidence`` holds JSON-friendly details
    (``observed``: what the driver did, ``findings``: list of Finding dicts, ...)."""
    case_id: str
    feature: str
    case_name: str
    driver: str
    level: str = "xml"
    outcome: str = "error"
    reason: str = ""
    evidence: dict = field(default_factory=dict)
    duration: float = 0.0

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "feature": self.feature, "case_name": self.case_name,
                "driver": self.driver, "level": self.level, "outcome": self.outcome,
                "reason": self.reason, "evidence": self.evidence, "duration": round(self.duration, 4)}
