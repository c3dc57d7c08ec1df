"""Broken: refuses everything with a rejection code that the protocol does not know."""

from conformance.contract import Rejected


class BadRejectionDriver:
    name = "broken-bad-rejection"

    def build(self, request):
        raise Rejected("NotSupportedHere", "this driver refuses everything")


driver = BadRejectionDriver()
