"""Not broken, just noisy below Python: writes to file descriptor 1 directly and through a
child process while building (must not corrupt the answer, in either exec mode)."""

import os
import subprocess

from conformance.reference import ReferenceDriver


class ChattyFdDriver:
    name = "chatty-fd"

    def build(self, request):
        os.write(1, b"fd noise\n")
        subprocess.run(["echo", "child noise"], check=True)
        return ReferenceDriver().build(request)


driver = ChattyFdDriver()
