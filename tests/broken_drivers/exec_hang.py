"""Broken exec driver: reads the request, spawns a child, and never answers.

It reports the grandchild's pid on stderr so a test can check that the harness killed
the whole process group, not just the driver process.
"""

import subprocess
import sys
import threading

if __name__ == "__main__":
    sys.stdin.read()
    child = subprocess.Popen([sys.executable, "-c", "import threading; threading.Event().wait()"])
    print(f"grandchild pid {child.pid}", file=sys.stderr, flush=True)
    threading.Event().wait()
