"""Reference implementation: flavor + image -> libvirt domain XML, faithful to Nova.

Public interface::

    ReferenceDriver().name == "reference"
    ReferenceDriver().build(request) -> str        # raises contract.Rejected
    resolve(request) -> Features                   # effective settings, same rejections
"""

from conformance.reference.driver import ReferenceDriver, resolve
from conformance.reference.features import Features, Realtime, RngSettings

__all__ = ["ReferenceDriver", "resolve", "Features", "Realtime", "RngSettings"]
