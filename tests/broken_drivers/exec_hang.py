"""Broken exec driver: reads the request, spawns a child, and never answers."""

import subprocess
import sys
import threading

if __name__ == "__main__":
    sys.stdin.read()
    # A grandchild in the same process group: the harness must kill the whole group.
    subprocess.Popen([sys.executable, "-c", "import threading; threading.Event().wait()"])
    threading.Event().wait()
