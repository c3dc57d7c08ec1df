"""Not broken, just noisy: prints debug output while building (must not corrupt the answer)."""

from conformance.reference import ReferenceDriver


class ChattyDriver:
    name = "chatty"

    def build(self, request):
        print("debug: building", request.instance_name)
        return ReferenceDriver().build(request)


driver = ChattyDriver()
