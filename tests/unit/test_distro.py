"""Which packages a release needs (conformance.host.distro), from os-release and apt's offer."""

from conformance.host import distro

DEBIAN13_OS_RELEASE = '''PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION_CODENAME=trixie
ID=debian
'''


def test_os_release_parsed_and_derivatives_recognised():
    release = distro.parse_os_release(DEBIAN13_OS_RELEASE)
    assert release["VERSION_CODENAME"] == "trixie" and distro.is_debian_like(release)
    assert distro.is_debian_like({"ID": "ubuntu", "ID_LIKE": "debian"})
    assert not distro.is_debian_like({"ID": "fedora", "ID_LIKE": "rhel centos"})
    assert distro.name({}) == "an unknown distribution"


def test_newest_kernel_source_by_version_not_by_text():
    assert distro.newest_kernel_source(["linux-source-6.9", "linux-source-6.12", "linux-source"]) \
        == "linux-source-6.12"
    assert distro.newest_kernel_source(["linux-source", "linux-image-amd64"]) is None


def test_nothing_missing_asks_apt_nothing():
    installed = {a.split("|")[0] for a in distro.PACKAGES + distro.MINIMAL_KERNEL} | {"linux-source-6.1"}
    planned = distro.plan(installed, None)
    assert planned.install == [] and planned.kernel_source == "linux-source-6.1"


def test_alternatives_take_the_first_apt_offers():
    offered = {"linux-tools-generic", "chromium-browser", "linux-source-6.8"}
    planned = distro.plan({"chromium"}, offered | {a for a in distro.PACKAGES if "|" not in a}
                          | set(distro.MINIMAL_KERNEL[1:]))
    assert "linux-tools-generic" in planned.install and "chromium-browser" not in planned.install
    assert planned.kernel_source == "linux-source-6.8" and planned.unavailable == []


def test_a_package_apt_lacks_is_named_not_fatal():
    planned = distro.plan(set(), {"qemu-system-x86"})
    assert "qemu-system-x86" in planned.install and "mmdebstrap" in planned.unavailable
    assert any("apt offers none of" in note and "mmdebstrap" in note for note in planned.notes)
