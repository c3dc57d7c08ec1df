"""Live checks on q35: PCI functions behind bridges are found (the i6300esb sits behind a
PCIe-to-PCI bridge there), and a machine-type change is no feature of its own for the
lifecycle persistence checks."""

from dataclasses import replace

from conformance.live import qemu
from conformance.live.persistence import must_change
from conformance.reference.features import Features


class _Guest:
    """``query-pci`` as QEMU 7.2 answers it for a q35 domain with an i6300esb."""

    def qmp(self, command):
        assert command == "query-pci"
        esb = {"bus": 2, "slot": 1, "function": 0, "qdev_id": "watchdog0",
               "id": {"vendor": 0x8086, "device": 0x25AB}}
        bridge = {"bus": 0, "slot": 30, "function": 0, "qdev_id": "pci.1",
                  "id": {"vendor": 0x1B36, "device": 0x000E},
                  "pci_bridge": {"bus": {"number": 2, "secondary": 2, "subordinate": 2},
                                 "devices": [esb]}}
        root_port = {"bus": 0, "slot": 2, "function": 0, "qdev_id": "pci.2",
                     "id": {"vendor": 0x1B36, "device": 0x000C},
                     "pci_bridge": {"bus": {"number": 3}, "devices": []}}
        return [{"bus": 0, "devices": [root_port, bridge]}]


def test_pci_functions_behind_bridges_are_listed():
    functions = qemu.pci_functions(_Guest())
    esb = [f for f in functions if (f["vendor"], f["device"]) == (0x8086, 0x25AB)]
    assert esb == [{"vendor": 0x8086, "device": 0x25AB, "qdev_id": "watchdog0", "bus": 2,
                    "slot": 1}]
    assert len(functions) == 3


def test_a_new_machine_type_is_not_a_feature_that_must_change():
    before = Features(watchdog_action="reset")
    assert must_change(before, replace(before, machine_type="q35")) == []
    assert must_change(before, replace(before, machine_type="q35", watchdog_action="pause")) == ["watchdog"]
