"""Broken exec driver: reads the request, spawns a child, and never answers.

It reports the grandchild's pid on stderr so a test can check that the harness killed
the whole process group, not just the driver process.
"""

import subprocess
import sys
import threading

from _exec import serve


def answer(request: str) -> str:
    child = subprocess.Popen([sys.executable, "-c", "import threading; threading.Event().wait()"])
    print(f"grandchild pid {child.pid}", file=sys.stderr, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    serve(answer)
