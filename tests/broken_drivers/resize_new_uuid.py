"""Broken after resize: the regenerated domain gets a new uuid (libvirt sees another domain)."""

from broken_drivers._lifecycle import BrokenAfter


def _new_uuid(dom):
    dom.find("uuid").text = "11111111-1111-4111-8111-111111111111"


driver = BrokenAfter("broken-resize-new-uuid", "resize", rewrite_xml=_new_uuid)
