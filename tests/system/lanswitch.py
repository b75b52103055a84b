"""An Ethernet switch on the host for QEMU socket networks (the
migration tests' segment between two Paravane hosts).

QEMU's `-netdev socket,connect=127.0.0.1:PORT` sends each frame as a
4-byte big-endian length and the frame; every machine's NIC, and host
A's user network (through a QEMU hub), connect here.  It learns where each
MAC is and sends a frame only there (flooding broadcasts and unknown
destinations), as a real switch does.  It must: QEMU's user network
answers every TCP segment it sees with a reset when the connection is not
its own, so it may only see what is for it.
"""
import socket
import struct
import threading


class LanSwitch:
    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.ports = []                  # sockets, in the order they connected
        self.macs = {}                   # MAC -> socket
        self.send_locks = {}             # socket -> its lock: frames never interleave
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.lsock.close()
        with self.lock:
            for s in self.ports:
                s.close()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.ports.append(s)
                self.send_locks[s] = threading.Lock()
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    @staticmethod
    def _read(s, n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, s):
        try:
            while True:
                (n,) = struct.unpack(">I", self._read(s, 4))
                self._forward(s, self._read(s, n))
        except (EOFError, OSError):
            with self.lock:
                self.macs = {m: p for m, p in self.macs.items() if p is not s}
                self.ports.remove(s)

    def _forward(self, src, frame):
        if len(frame) < 14:
            return
        dst, mac = frame[:6], frame[6:12]
        with self.lock:
            if not mac[0] & 1:
                self.macs[mac] = src
            out = self.macs.get(dst)
            targets = [out] if out is not None and not dst[0] & 1 else list(self.ports)
            targets = [(p, self.send_locks[p]) for p in targets if p is not src]
        packet = struct.pack(">I", len(frame)) + frame
        for p, lock in targets:
            try:
                with lock:
                    p.sendall(packet)
            except OSError:
                pass
