"""Broken: raises an ordinary Python exception for watchdog requests."""


class CrashingDriver:
    name = "broken-crashing"

    def build(self, request):
        from conformance.reference import ReferenceDriver
        if "hw:watchdog_action" in request.flavor.extra_specs:
            raise KeyError("watchdog_model")
        return ReferenceDriver().build(request)


driver = CrashingDriver()
