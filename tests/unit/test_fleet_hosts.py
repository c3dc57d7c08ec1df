"""--host parsing: labels derived from URIs, made unique; duplicates are usage errors."""

import pytest

from conformance.errors import HostSpecError
from conformance.run.hosts import Host, derived_label, parse_hosts


@pytest.mark.parametrize("uri, label", [
    ("qemu:///system", "local"), ("qemu:///session", "local"),
    ("qemu+tcp://10.251.2.2/system", "10.251.2.2"), ("qemu+ssh://root@Node-1.example/system", "node-1.example"),
    ("qemu+ssh://[fe80::1]/system", "fe80__1"),
])
def test_label_is_the_hostname_or_local(uri, label):
    assert derived_label(uri) == label


def test_labels_are_unique_and_names_win():
    hosts = parse_hosts(["qemu:///system", "qemu:///session", "local=qemu+tcp://a/system",
                         "qemu+tcp://b/system"])
    assert [h.label for h in hosts] == ["local-2", "local-3", "local", "b"]
    assert hosts[2] == Host("local", "qemu+tcp://a/system")
    assert hosts[3].title == "b (qemu+tcp://b/system)"


def test_a_uri_with_its_own_equals_sign_is_not_a_name():
    (host,) = parse_hosts(["qemu+ssh://n1/system?keyfile=/root/k"])
    assert host == Host("n1", "qemu+ssh://n1/system?keyfile=/root/k")
    (named,) = parse_hosts(["h1=qemu+ssh://n1/system?keyfile=/root/k"])
    assert named == Host("h1", "qemu+ssh://n1/system?keyfile=/root/k")


@pytest.mark.parametrize("specs, words", [
    (["qemu:///system", "qemu:///system"], "given twice"),
    (["qemu+tcp://A/system/", "x=qemu+tcp://a/system"], "given twice"),
    (["h=qemu:///system", "h=qemu+tcp://b/system"], "names given twice: h"),
    (["../x=qemu+tcp://b/system"], "not a libvirt URI"),  # no name, no scheme
    (["-x=qemu+tcp://b/system"], "a host name is"),
    (["h="], "not a libvirt URI"),
])
def test_bad_hosts_are_usage_errors(specs, words):
    with pytest.raises(HostSpecError, match=words.replace(".", r"\.")) as caught:
        parse_hosts(specs)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("args, words", [
    (["--host", "qemu:///system", "--host", "qemu:///system"], "given twice"),
    (["--host", "qemu:///system", "--libvirt-uri", "qemu:///system"], "not both"),
    (["--host", "a=qemu:///system", "--host", "b=qemu+tcp://x/system", "--parallel-per-host", "0"],
     "at least 1"),
])
def test_certify_refuses_bad_hosts_with_exit_2(args, words, tmp_path):
    """Before anything is loaded or run (no libvirt needed)."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--output-dir",
                           str(tmp_path / "out"), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_cleanup_refuses_duplicate_hosts(tmp_path):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup", "--host", "qemu:///system",
                           "--host", "qemu:///system/"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "given twice" in done.stderr
