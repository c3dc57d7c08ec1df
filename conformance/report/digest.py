"""Tamper evidence for report.json: sha256 over its canonical JSON without the digest."""

from __future__ import annotations

import hashlib
import json


def canonical(report: dict) -> bytes:
    body = {k: v for k, v in report.items() if k != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest(report: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical(report)).hexdigest()


def verify(report: dict) -> bool:
    return report.get("digest") == digest(report)
