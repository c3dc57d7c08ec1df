"""What a host's run needs before its pytest child starts (:class:`HostPreparation`: the
accelerator, on a remote host the guest image uploaded once), and the host's measured facts
(:func:`host_facts`). :func:`accelerator` is also ``conformance host-check``'s."""

from __future__ import annotations

from conformance.errors import HarnessError
from conformance.run.settings import Settings
from conformance.run.terminal import say


class HostPreparation:
    """What a host's run needs before its pytest child starts, undone when the run ends:
    the accelerator, and on a remote host the guest image uploaded once for the whole run.
    The child's labs adopt those volumes (``child_env``, :data:`storage.SHARED_ENV`) instead
    of uploading per worker; they are removed with this lab when the run ends (left alone
    on a host found ``lost``, which cannot be reached; ``cleanup --host`` removes them)."""

    def __init__(self, uri: str, settings: Settings, blocker: str | None, label: str | None):
        self.uri, self.settings, self.label = uri, settings, label
        self.virt_type, self.reason = "unknown", blocker
        self.child_env: dict[str, str] = {}
        self.lost: str | None = None
        self._lab = None
        self._skip = blocker is not None

    def __enter__(self) -> HostPreparation:
        if self._skip:
            return self
        if self.settings.level == "xml":
            self.virt_type, self.reason = "qemu", "not needed: --level xml"
            return self
        from conformance.host.accel import choose
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        from conformance.lab.storage import shared_env
        try:
            image = load_image()
            self._lab = Lab(self.uri)
            if self._lab.remote:
                self._lab.host_image(image)
                self.child_env = shared_env(self.uri, self._lab.files.uploaded)
            chosen = choose(self._lab, image, self.settings.accel)
            self.virt_type, self.reason = chosen.virt_type, chosen.reason
        except HarnessError as exc:
            self.virt_type, self.reason = "unknown", f"no guests can run here: {exc}"
        if self._lab is not None and not self.child_env:
            self._close()  # nothing shared: the lab is not needed during the run
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        lab, self._lab = self._lab, None
        if lab is None:
            return
        if self.lost:
            lab.unreachable = self.lost  # no 30 s of reconnecting to a host known lost
        try:
            lab.close()
        except HarnessError as exc:
            say(self.label, f"could not remove the run's image volumes on {self.uri}: {exc}")


def accelerator(uri: str, accel: str) -> tuple[str, str]:
    """(virt type, why) the libvirt host of ``uri`` boots guests with (``accel``: auto, kvm,
    qemu); ("unknown", why) when no guest can run there."""
    try:
        from conformance.host.accel import choose
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        image = load_image()
        with Lab(uri) as lab:
            chosen = choose(lab, image, accel)
        return chosen.virt_type, chosen.reason
    except HarnessError as exc:
        return "unknown", f"no guests can run here: {exc}"


def host_facts(uri: str) -> dict:
    """The capabilities of the libvirt host of ``uri``, measured there (remote: over ssh)."""
    try:
        from conformance.host.capabilities import probe
        from conformance.lab.connection import open_connection
        from conformance.lab.host import host_access
        conn, host = open_connection(uri), host_access(uri)
        try:
            return probe(conn, host).to_dict()
        finally:
            host.close()
            conn.close()
    except Exception as exc:  # noqa: BLE001 - facts are informative, never fatal
        return {"error": str(exc)}
