"""Broken exec driver: domain XML whose DOCTYPE declares an external entity reading a host
file (argv[1]) and a billion-laughs bomb, both used in the domain's <description>
(argv[2] == "external-only": just the external entity)."""

import sys

from conformance.contract import Request
from conformance.reference import ReferenceDriver

from _exec import serve

LAUGHS = "\n".join(['<!ENTITY l0 "lol">'] + [
    f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)])


def answer(request: str) -> str:
    secret, bomb = sys.argv[1], sys.argv[2:] != ["external-only"]
    xml = ReferenceDriver().build(Request.from_json(request))
    header = (f'<?xml version="1.0"?>\n<!DOCTYPE domain [\n{LAUGHS if bomb else ""}\n'
              f'<!ENTITY secret SYSTEM "file://{secret}">\n]>\n')
    use = "&secret; &l9;" if bomb else "&secret;"
    return header + xml.replace("</domain>", f"<description>{use}</description></domain>")


if __name__ == "__main__":
    serve(answer)
