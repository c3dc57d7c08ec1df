"""TLS keys for one namespace test host: its own CA, a server certificate for its veth
address and the one client certificate its libvirtd accepts (GnuTLS ``certtool``, Debian
package gnutls-bin).

Layout under ``DIR``: ``ca/`` (the CA's key and certificate), ``server/`` (what libvirtd
loads: ``cacert.pem``, ``servercert.pem``, ``serverkey.pem``) and ``client/`` in libvirt's
``pkipath`` layout (``cacert.pem``, ``clientcert.pem``, ``clientkey.pem``), so a
``qemu+tls://ADDRESS/system?pkipath=DIR/client`` URI needs no other set-up. Keys are
RSA 2048 (libvirt wants key encipherment in the certificates), mode 0600; certificates expire after two days.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

CLIENT_CN = "cfm-harness"
TEMPLATES = {
    "ca": 'cn = "cfm test host CA {address}"\nca\ncert_signing_key\nexpiration_days = 2\n',
    "server": 'cn = "{address}"\nip_address = "{address}"\ntls_www_server\nsigning_key\nencryption_key\n'
              'expiration_days = 2\n',
    "client": f'cn = "{CLIENT_CN}"\ntls_www_client\nsigning_key\nencryption_key\nexpiration_days = 2\n',
}


class PkiError(RuntimeError):
    """certtool failed; the message carries its stderr."""


def _certtool(*args: str) -> None:
    done = subprocess.run(["certtool", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise PkiError(f"certtool {' '.join(args[:2])} failed: {done.stderr.strip()[-400:]}")


def _key(path: str) -> None:
    _certtool("--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile", path)
    os.chmod(path, 0o600)


def _template(kind: str, address: str) -> str:
    handle, path = tempfile.mkstemp(prefix=f"cfm-{kind}-", suffix=".info")
    with os.fdopen(handle, "w") as info:
        info.write(TEMPLATES[kind].format(address=address))
    return path


def make(directory: str, address: str) -> dict[str, str]:
    """Make the CA, server and client keys for ``address`` under ``directory``; the paths
    libvirtd.conf and a client need (``ca_file``, ``cert_file``, ``key_file``, ``pkipath``)."""
    ca, server, client = (os.path.join(directory, d) for d in ("ca", "server", "client"))
    for path in (ca, server, client):
        os.makedirs(path, mode=0o700)
    ca_key, ca_cert = os.path.join(ca, "cakey.pem"), os.path.join(ca, "cacert.pem")
    templates = {kind: _template(kind, address) for kind in TEMPLATES}
    try:
        _key(ca_key)
        _certtool("--generate-self-signed", "--load-privkey", ca_key, "--template",
                  templates["ca"], "--outfile", ca_cert)
        for kind, where in (("server", server), ("client", client)):
            key, cert = os.path.join(where, f"{kind}key.pem"), os.path.join(where, f"{kind}cert.pem")
            _key(key)
            _certtool("--generate-certificate", "--load-privkey", key, "--load-ca-certificate",
                      ca_cert, "--load-ca-privkey", ca_key, "--template", templates[kind],
                      "--outfile", cert)
            with open(ca_cert) as src, open(os.path.join(where, "cacert.pem"), "w") as dst:
                dst.write(src.read())
    finally:
        for path in templates.values():
            os.unlink(path)
    return {"ca_file": os.path.join(server, "cacert.pem"),
            "cert_file": os.path.join(server, "servercert.pem"),
            "key_file": os.path.join(server, "serverkey.pem"), "pkipath": client}
