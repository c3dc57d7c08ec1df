"""Named errors raised by the harness. Every failure the harness reports has a name."""


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class WaitTimeout(HarnessError):
    """A bounded wait ended before the awaited thing happened."""

    def __init__(self, what: str, timeout: float, last=None, detail: str = ""):
        self.what, self.timeout, self.last, self.detail = what, timeout, last, detail
        msg = f"{what} after {timeout:g} s"
        if last is not None:
            msg += f"; last seen: {last!r}"[:400]
        if detail:
            msg += f"; {detail}"
        super().__init__(msg)


class RequestInvalid(HarnessError):
    """A driver request does not match the protocol's JSON schema."""


class DriverFault(HarnessError):
    """A driver misbehaved: crashed, hung, printed junk, or returned a non-domain.

    ``kind`` is one of: crash, timeout, exit-code, bad-output, not-xml, not-domain,
    bad-rejection, unsafe; for ``exec-stream:`` drivers also wrong-id, handshake.
    """

    def __init__(self, kind: str, detail: str):
        self.kind, self.detail = kind, detail
        super().__init__(f"driver fault ({kind}): {detail}")


class DriverHung(HarnessError):
    """The driver timed out on several requests in a row and was declared hung: this request
    was not sent (nothing was judged, so it is an error, not the driver failing a case).
    The message names the driver, the timeouts and the deadline
    (:mod:`conformance.drivers.hang`)."""


class DriverLoadError(HarnessError):
    """A driver spec (reference, module:attr, exec:COMMAND) cannot be loaded."""
    exit_code = 3


class HostSpecError(HarnessError):
    """The hosts given to certify or cleanup (``--host``) are unusable: a duplicate URI or
    label, a bad label, ``--shard`` with more hosts than independent case groups."""
    exit_code = 2


class HostCapabilityMissing(HarnessError):
    """The host lacks something a level needs; the message names it exactly."""


class GuestError(HarnessError):
    """A guest failed to start, crashed, or answered wrongly."""


class DomainRefused(HarnessError):
    """libvirt refused to define the driver's domain XML (the driver's failure, like a sandbox
    rule); the message is libvirt's."""


class AnswerChanged(HarnessError):
    """The judged driver's domain for a case, built to boot it, is not the one the case was
    grouped on (another domain than its group's guest boots, or none): the driver's answer
    depends on more than the request's flavor, image, host and virt type."""


class HostUnreachable(HarnessError):
    """The libvirt host of a URI does not answer (at the start, or it went away mid-run and
    did not come back in time). The message names the URI."""

    def __init__(self, uri: str, detail: str):
        self.uri, self.detail = uri, detail
        super().__init__(f"libvirt host {uri} unreachable: {detail}")


class SandboxViolation(HarnessError):
    """Driver XML breaks a sandbox rule (``rule``, named in every report); nothing of it
    reaches a libvirt host (:mod:`conformance.lab.sandbox`)."""

    def __init__(self, rule: str, detail: str):
        self.rule, self.detail = rule, detail
        super().__init__(f"unsafe domain XML refused ({rule}): {detail}")


class HostsIncompatible(HarnessError):
    """The run's hosts cannot perform an operation between them, whatever the driver answers
    (e.g. a live migration to an older hypervisor, which Nova's conductor refuses too): the
    case is skipped with this reason, never failed."""
