#!/usr/bin/env python3
"""Lesson 04: "Address already in use" (OSError 98) and the SO_REUSEADDR fix, side by side.

Each case runs a server on 127.0.0.1, on a port the kernel picks. It accepts one connection,
sends a line and closes the connection first, so the server's side of that connection is left in
TIME_WAIT. Then it stops, and a new server binds the same port at once.

    python3 lessons/04-port-reuse/python/reuse_demo.py         # --ss also shows `ss` lines

On Linux a TIME_WAIT connection remembers whether the listener that accepted it had set
SO_REUSEADDR, and the new bind succeeds only when both did: the third case.
"""
import shutil
import socket
import subprocess
import sys

HOST = "127.0.0.1"


def listener(port, reuse):
    """A listening socket on HOST:port, with SO_REUSEADDR set before bind() when `reuse`."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((HOST, port))
        srv.listen()
    except OSError:
        srv.close()
        raise
    return srv


def serve_one_and_stop(reuse):
    """Serves one connection, closing it first; returns the port, now free but for TIME_WAIT."""
    srv = listener(0, reuse)
    port = srv.getsockname()[1]
    client = socket.create_connection((HOST, port))
    conn, _ = srv.accept()
    conn.sendall(b"hello from port %d\n" % port)
    conn.close()  # the server closes first: its side of the connection goes to TIME_WAIT
    while client.recv(1024):  # the client reads to the end (b"" is the server's FIN) ...
        pass
    client.close()  # ... and closes its side too
    srv.close()  # the server stops
    return port


def time_wait_lines(port):
    """What `ss` shows in TIME-WAIT on that port (nothing where ss is missing)."""
    if not shutil.which("ss"):
        return []
    out = subprocess.run(
        ["ss", "-Htan", "state", "time-wait", "sport", "=", ":%d" % port],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def restart(label, reuse_before, reuse_after, show_ss):
    port = serve_one_and_stop(reuse_before)
    waiting = time_wait_lines(port) if show_ss else []
    try:
        listener(port, reuse_after).close()
        result = "bound and listening again"
    except OSError as error:
        result = "OSError: [Errno %d] %s" % (error.errno, error.strerror)
    print("%-36s port %d -> %s" % (label + ":", port, result))
    for line in waiting:
        print("    ss: TIME-WAIT " + " ".join(line.split()))


def main():
    show_ss = "--ss" in sys.argv[1:]
    restart("restart without SO_REUSEADDR", False, False, show_ss)
    restart("restart with SO_REUSEADDR", True, True, show_ss)
    restart("SO_REUSEADDR on the new server only", False, True, show_ss)


if __name__ == "__main__":
    main()
