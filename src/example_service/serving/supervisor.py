"""uvicorn's supervisor of several workers, which stops listening when shutdown starts.

The supervisor holds its own copy of the listening socket until every worker has exited. While
the workers drain (up to SERVER_GRACEFUL_SHUTDOWN_SECONDS), the kernel therefore keeps completing
handshakes into a backlog that no process will ever accept: a client connecting then hangs for
the rest of the drain. Closing the supervisor's copy first means that once each worker has closed
its own (the first step of its shutdown) the socket is gone, and a new connection is refused at
once, so a load balancer retries it elsewhere.
"""

from __future__ import annotations

from uvicorn.supervisors import Multiprocess


class Supervisor(Multiprocess):
    def terminate_all(self) -> None:
        # Called once, when the supervisor leaves its loop to stop every worker; it never starts
        # another worker after this (restarts and scaling use `terminate` of one process).
        for sock in self.sockets:
            sock.close()
        super().terminate_all()
