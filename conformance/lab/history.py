"""What happened to one guest, kept for the artefacts of a failed check: each definition
(the driver's XML, the sandboxed XML defined, the XML libvirt booted) and the QMP answers
the checks got. Bounded: a few definitions, the last QMP answers, each cut to a size.
Plain data; nothing here reads the host (the guest hands over what it already has)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque

MAX_DEFINITIONS = 8       # create + a few operations (a trail's guest serves several)
MAX_QMP = 64              # QMP answers kept (the last ones)
MAX_XML = 1 << 20         # characters of one XML document kept (driver XML is capped there too)
MAX_QMP_ANSWER = 16 << 10  # characters of one QMP answer kept


def _cut(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit]


class GuestHistory:
    """Definitions and QMP answers of one guest, oldest first (thread-safe)."""

    def __init__(self):
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._definitions: deque[dict] = deque(maxlen=MAX_DEFINITIONS)
        self._qmp: deque[dict] = deque(maxlen=MAX_QMP)

    def defined(self, operation: str, driver_xml: str, defined_xml: str | None = None) -> dict:
        """Record a definition for ``operation`` (``create`` or a lifecycle operation) and
        return its record, to complete with :meth:`booted` once libvirt started it."""
        record = {"operation": operation, "driver": _cut(driver_xml, MAX_XML),
                  "defined": _cut(defined_xml, MAX_XML), "booted": None}
        with self._lock:
            self._definitions.append(record)
        return record

    def booted(self, live_xml: str | None) -> None:
        """The XML libvirt runs for the latest definition (its live XML after the start)."""
        with self._lock:
            if self._definitions:
                self._definitions[-1]["booted"] = _cut(live_xml, MAX_XML)

    def qmp(self, command: str, arguments: dict | None, answer=None, error: str | None = None) -> None:
        text = json.dumps(answer, default=str) if error is None else None
        entry = {"at": round(time.monotonic() - self.started, 3), "command": command,
                 "arguments": arguments or {}}
        if error is not None:
            entry["error"] = _cut(error, MAX_QMP_ANSWER)
        elif len(text) > MAX_QMP_ANSWER:
            entry["answer_cut"] = text[:MAX_QMP_ANSWER]
        else:
            entry["answer"] = answer
        with self._lock:
            self._qmp.append(entry)

    def definitions(self) -> list[dict]:
        with self._lock:
            return [dict(d) for d in self._definitions]

    def qmp_answers(self) -> list[dict]:
        with self._lock:
            return list(self._qmp)
