"""Hostile exec driver: the reference XML turned into a hostile answer (_hostile.ANSWERS).

``exec_hostile.py NAME CANARY_DIR``: answer NAME for every request;
``exec_hostile.py --map FILE CANARY_DIR``: the answer FILE maps the request's signature to
(the reference XML for requests it does not map)."""

import sys

from conformance.contract import Request

from _exec import serve
from _hostile import HostileDriver, MappedHostile


def main() -> None:
    if sys.argv[1] == "--map":
        driver = MappedHostile(sys.argv[2], sys.argv[3])
    else:
        driver = HostileDriver(sys.argv[1], sys.argv[2])
    serve(lambda request: driver.build(Request.from_json(request)))


if __name__ == "__main__":
    main()
