"""Broken after one operation: the regenerated domain is another instance to libvirt.

One driver per persistence rule and operation (spec ``broken_drivers.lifecycle_identity:<attr>``):
``uuid_<op>`` answers another ``<uuid>``, ``sysinfo_<op>`` another ``<sysinfo>`` system uuid
(what the guest reads as its SMBIOS uuid), ``name_<op>`` another ``<name>``; each is right on
create and on every other operation.
"""

from lxml import etree

from broken_drivers._lifecycle import BrokenAfter

OTHER_UUID = "11111111-1111-4111-8111-111111111111"
OPERATIONS = ("reboot", "stop_start", "resize", "rebuild")


def _uuid(dom):
    dom.find("uuid").text = OTHER_UUID


def _sysinfo(dom):
    sysinfo = etree.Element("sysinfo", type="smbios")
    etree.SubElement(etree.SubElement(sysinfo, "system"), "entry", name="uuid").text = OTHER_UUID
    dom.find("os").addprevious(sysinfo)
    etree.SubElement(dom.find("os"), "smbios", mode="sysinfo")


def _name(dom):
    dom.find("name").text = dom.findtext("name") + "-renamed"


REWRITES = {"uuid": _uuid, "sysinfo": _sysinfo, "name": _name}

for _rule, _rewrite in REWRITES.items():
    for _operation in OPERATIONS:
        globals()[f"{_rule}_{_operation}"] = BrokenAfter(
            f"broken-{_operation}-{_rule}", _operation, rewrite_xml=_rewrite)
