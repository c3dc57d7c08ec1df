"""What the sandbox judges of a memory-encrypted (AMD SEV) domain, which the harness never
hands to libvirt.

A SEV guest needs UEFI firmware (``<os firmware='efi'>`` or a ``<loader>``) and its
``<launchSecurity>``; the sandbox refuses both for a domain it may boot, because libvirt
would read host firmware files and create an nvram file on the host. Such a domain is judged
at level xml only (no define: docs/driver-protocol.md, "Memory encryption"), and only when
the reference expects memory encryption for the case. Then :func:`split` takes those parts
out after checking them against a narrow allow list, and the rest of the domain goes through
the sandbox as any other:

- ``<os firmware='efi'>`` (no other value) with ``<firmware><feature name enabled>`` of
  ``secure-boot`` / ``enrolled-keys``;
- ``<loader>``: ``readonly`` yes, ``type`` pflash or rom, ``secure``/``stateless`` yes or
  no; its path, if any, a normalised file in the packaged firmware directories
  (:data:`FIRMWARE_DIRS`): never another host file;
- ``<nvram>``: no path of its own (that is a file libvirt writes on the host), a
  ``template`` in :data:`FIRMWARE_DIRS` only;
- ``<launchSecurity type='sev'|'sev-snp'>`` with libvirt's children for those types, values
  that name no path.

A violation raises :class:`SandboxViolation` (rule ``firmware`` or ``launch-security``).
"""

from __future__ import annotations

import copy
import posixpath

from lxml import etree

from conformance.errors import SandboxViolation

FIRMWARE_DIRS = ("/usr/share/OVMF/", "/usr/share/edk2/", "/usr/share/qemu/")
FIRMWARE_FEATURES = {"secure-boot", "enrolled-keys"}
YES_NO = {None, "yes", "no"}
LOADER_ATTRS = {"readonly": {None, "yes"}, "type": {None, "pflash", "rom"}, "secure": YES_NO,
                "stateless": YES_NO, "format": {None, "raw", "qcow2"}}
LAUNCH_ATTRS = {"type", "kernelHashes", "authorKey", "vcek"}
LAUNCH_CHILDREN = {"sev": {"policy", "cbitpos", "reducedPhysBits", "dhCert", "session"},
                   "sev-snp": {"policy", "cbitpos", "reducedPhysBits", "guestVisibleWorkarounds",
                               "idBlock", "idAuth", "hostData"}}


def _elements(parent) -> list:
    return [child for child in parent if isinstance(child.tag, str)]


def _firmware_file(path: str | None, what: str) -> None:
    """``path`` must be a plain, normalised file under a packaged firmware directory."""
    text = (path or "").strip()
    if text != posixpath.normpath(text) or not text.startswith(FIRMWARE_DIRS) \
            or text.endswith("/"):
        raise SandboxViolation("firmware", f"{what} {path!r} is not a packaged firmware file "
                                           f"(under {', '.join(FIRMWARE_DIRS)})")


def _check_os(os_el) -> None:
    if os_el.get("firmware") not in (None, "efi"):
        raise SandboxViolation("firmware", f"<os firmware={os_el.get('firmware')!r}>: only efi")
    for child in _elements(os_el):
        if child.tag == "firmware":
            for feature in _elements(child):
                if feature.tag != "feature" or feature.get("name") not in FIRMWARE_FEATURES \
                        or feature.get("enabled") not in ("yes", "no") or len(feature.attrib) != 2:
                    raise SandboxViolation("firmware", f"<firmware> child {etree.tostring(feature)!r}")
        elif child.tag == "loader":
            for name, value in child.attrib.items():
                if value not in LOADER_ATTRS.get(name, ()):
                    raise SandboxViolation("firmware", f"<loader {name}={value!r}>")
            if _elements(child):
                raise SandboxViolation("firmware", "<loader> with child elements")
            if (child.text or "").strip():
                _firmware_file(child.text, "<loader>")
        elif child.tag == "nvram":
            if (child.text or "").strip() or _elements(child):
                raise SandboxViolation("firmware", "<nvram> names its own file (libvirt writes it "
                                                   "on the host)")
            if set(child.attrib) - {"template"}:
                raise SandboxViolation("firmware", f"<nvram> attributes {dict(child.attrib)}")
            if child.get("template") is not None:
                _firmware_file(child.get("template"), "<nvram template>")


def _check_launch_security(security) -> None:
    kind = security.get("type")
    if kind not in LAUNCH_CHILDREN or set(security.attrib) - LAUNCH_ATTRS:
        raise SandboxViolation("launch-security", f"<launchSecurity {dict(security.attrib)}>: "
                                                  "only AMD SEV and SEV-SNP")
    for name in ("kernelHashes", "authorKey", "vcek"):
        if security.get(name) not in YES_NO:
            raise SandboxViolation("launch-security", f"{name}={security.get(name)!r}")
    for child in _elements(security):
        text = (child.text or "").strip()
        if child.tag not in LAUNCH_CHILDREN[kind] or _elements(child) or child.attrib \
                or text.startswith(("/", ".", "~", "file:")):
            raise SandboxViolation("launch-security", f"<launchSecurity><{child.tag}> "
                                                      f"{text[:60]!r}")


def split(root: etree._Element) -> etree._Element:
    """A copy of the domain ``root`` without its UEFI firmware and launch security, after
    checking those against the allow list above (SandboxViolation otherwise)."""
    root = copy.deepcopy(root)
    for os_el in root.findall("os"):
        _check_os(os_el)
        os_el.attrib.pop("firmware", None)
        for child in os_el.findall("firmware") + os_el.findall("loader") + os_el.findall("nvram"):
            os_el.remove(child)
    for security in root.findall("launchSecurity"):
        _check_launch_security(security)
        root.remove(security)
    return root
