"""Unit tests of grouping live cases into one guest per distinct configuration."""

from conformance.live.grouping import LiveCase, group, normalise

DOMAIN = """<domain type="qemu"><uuid>{uuid}</uuid><name>{name}</name><memory>262144</memory>
<os><type arch="x86_64" machine="pc">hvm</type><kernel>/k{n}</kernel><cmdline>c{n}</cmdline></os>
<devices><serial type="pty"/><channel type="unix"><source mode="bind" path="/x/{name}.sock"/>
<target type="virtio" name="org.qemu.guest_agent.0"/></channel>{extra}</devices></domain>"""


def dom(n, extra=""):
    return DOMAIN.format(uuid=f"u-{n}", name=f"instance-{n}", n=n, extra=extra)


def test_normalise_drops_identity_and_boot():
    """Name, uuid, kernel, cmdline, serial and the channel path do not make configs differ."""
    assert normalise(dom(1)) == normalise(dom(2))
    assert normalise(dom(1)) != normalise(dom(1, "<watchdog model='i6300esb' action='reset'/>"))


def test_group_by_config_and_expectation():
    """Same XML + same expectation share a guest; a different expectation splits the group."""
    cases = [LiveCase("a", "agent", "on", dom(1), ("agent", True)),
             LiveCase("b", "rng", "default", dom(2), ("agent", True)),
             LiveCase("c", "agent", "off?", dom(3), ("agent", False)),
             LiveCase("d", "watchdog", "reset",
                      dom(4, "<watchdog model='i6300esb' action='reset'/>"), ("agent", True))]
    groups = group(cases)
    assert [g.case_ids() for g in groups] == [["a", "b"], ["c"], ["d"]]
    assert groups[0].features == ["agent", "rng"] and groups[0].case_ids("rng") == ["b"]
    assert group(list(reversed(cases)))[0].key == groups[2].key  # keys are order-free


def test_group_check_equal_per_group():
    """Checks of one group compare/hash equal (pytest then shares the group's guest);
    checks of different groups do not."""
    from conformance.live.grouping import GroupCheck
    first, second = group([LiveCase("a", "agent", "x", dom(1), 1),
                           LiveCase("b", "rng", "y", dom(2, "<watchdog/>"), 1)])
    assert GroupCheck(first, "agent") == GroupCheck(first, "rng")
    assert hash(GroupCheck(first, "agent")) == hash(GroupCheck(first, "rng"))
    assert GroupCheck(first, "agent") != GroupCheck(second, "agent")
