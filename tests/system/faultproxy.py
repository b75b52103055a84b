"""A TCP proxy on the host that breaks a migration's connection on
purpose (tests/system/test_migrate.py): the source's control domain
reaches it at 10.0.2.2:port (QEMU's user network), it reaches the
destination's API through a forward.  Its first connection gets the
fault; later ones (the source asking what became of the domain) pass.

    faults: "pass"; ("cut", n): close both sides after n bytes from the
    source; ("flip", n): invert the source's byte n; "mute": pass the
    whole request on, then close on the source without its answer."""
import socket
import threading


class FaultProxy:
    def __init__(self, target_port, fault):
        self.target = ("127.0.0.1", target_port)
        self.fault = fault
        self.sent = 0                    # bytes from the source passed on (first connection)
        self.answer = b""                # what the destination answered it
        self.done = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.conns = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.lsock.close()

    def _accept(self):
        while True:
            try:
                src, _ = self.lsock.accept()
            except OSError:
                return
            fault = self.fault if self.conns == 0 else "pass"
            self.conns += 1
            threading.Thread(target=self._serve, args=(src, fault), daemon=True).start()

    def _serve(self, src, fault):
        dst = socket.create_connection(self.target, timeout=60)
        back = threading.Thread(target=self._back, args=(dst, src, fault), daemon=True)
        back.start()
        try:
            self._forth(src, dst, fault)
        finally:
            back.join(60)
            for s in (src, dst):
                s.close()
            self.done.set()

    def _forth(self, src, dst, fault):
        kind, n = (fault, 0) if isinstance(fault, str) else fault
        off = 0
        while True:
            data = src.recv(65536)
            if not data:
                dst.shutdown(socket.SHUT_WR)
                return
            if kind == "flip" and off <= n < off + len(data):
                b = bytearray(data)
                b[n - off] ^= 0xff
                data = bytes(b)
            if kind == "cut" and off + len(data) >= n:
                dst.sendall(data[:n - off])
                self.sent = n
                src.shutdown(socket.SHUT_RDWR)
                dst.shutdown(socket.SHUT_RDWR)
                return
            dst.sendall(data)
            off += len(data)
            self.sent = off

    def _back(self, dst, src, fault):
        while True:
            try:
                data = dst.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    src.shutdown(socket.SHUT_RDWR if fault == "mute" else socket.SHUT_WR)
                except OSError:
                    pass
                return
            self.answer += data
            if fault != "mute":
                try:
                    src.sendall(data)
                except OSError:
                    return
