"""An in-memory fake of the control domain's REST API (docs/api.md).

It implements the documented contract (routes, auth, errors, limits that
matter to a client, console offsets and follow streams, Server-Sent
Events, metrics, the dashboard's files from apps/control/ui) over a few
Python dicts, so pvctl and the dashboard can be tested without a booted
machine.  It is a test double, not a reference server: no real
domains run, and the knobs below make streams end quickly.

    fake = FakeParavane(token="...").start()
    ... fake.url ...
    fake.console_write(domid, b"text")      # a guest printing
    fake.end_domain(domid, code=0)           # a guest exiting
    fake.stop()
"""
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The routes served; tests/tools/test_pvctl.py checks them against docs/api.md.
ROUTES = [
    ("GET", "/v1/host"),
    ("GET", "/v1/domains"),
    ("POST", "/v1/domains"),
    ("GET", "/v1/domains/{ref}"),
    ("DELETE", "/v1/domains/{ref}"),
    ("POST", "/v1/domains/{ref}/pause"),
    ("POST", "/v1/domains/{ref}/resume"),
    ("GET", "/v1/domains/{ref}/console"),
    ("GET", "/v1/domains/{ref}/save"),
    ("POST", "/v1/restore"),
    ("POST", "/v1/domains/{ref}/migrate"),
    ("POST", "/v1/domains/{ref}/snapshot"),
    ("GET", "/v1/snapshots"),
    ("GET", "/v1/snapshots/{name}"),
    ("DELETE", "/v1/snapshots/{name}"),
    ("POST", "/v1/snapshots/{name}/clone"),
    ("GET", "/v1/images"),
    ("PUT", "/v1/images/{name}"),
    ("GET", "/v1/images/{name}"),
    ("DELETE", "/v1/images/{name}"),
    ("GET", "/v1/events"),
    ("GET", "/metrics"),
    ("GET", "/"),
    ("GET", "/ui/{file}"),
]

UI_DIR = Path(__file__).resolve().parents[2] / "apps" / "control" / "ui"
UI_FILE_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
UI_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
            "css": "text/css; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
            "ico": "image/x-icon"}

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$")
SAVE_MAGIC = b"PVSAVE1\0"

MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
IPV4_RE = re.compile(r"^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$")
OVERHEAD = 45056                      # bytes of "hypervisor memory" per fake domain
MEMORY_MIN, MEMORY_MAX = 64 << 10, 64 << 30
CMDLINE_MAX = 255

STATUS_TEXT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 409: "Conflict", 411: "Length Required",
               413: "Payload Too Large", 415: "Unsupported Media Type",
               431: "Request Header Fields Too Large", 500: "Internal Server Error",
               507: "Insufficient Storage"}


class HttpError(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def bad(field, message, code="bad_field"):
    return HttpError(400, code, message, field=field)


class Ring:
    """A console ring: bytes with offsets counted from the first ever written."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.data = bytearray()
        self.start = 0

    @property
    def end(self):
        return self.start + len(self.data)

    def write(self, b):
        self.data += b
        over = len(self.data) - self.capacity
        if over > 0:
            del self.data[:over]
            self.start += over

    def read(self, offset, limit):
        """(first offset, lost bytes, data) from offset on."""
        lost = 0
        if offset < self.start:
            lost, offset = self.start - offset, self.start
        offset = min(offset, self.end)
        i = offset - self.start
        return offset, lost, bytes(self.data[i:i + limit])


class FakeParavane:
    def __init__(self, token="fake-token-0123456789abcdef", console_ring=4096,
                 event_ring=8192, quiet_seconds=25.0, keepalive_seconds=15.0,
                 memory_total=512 << 20, domains_max=64, image_limit=64 << 20,
                 body_limit=64 << 10, image_store_limit=256 << 20, images_max=256,
                 metrics_public=False, ui_dir=UI_DIR):
        self.token = token
        self.console_ring = console_ring
        self.event_ring = event_ring
        self.quiet_seconds = quiet_seconds
        self.keepalive_seconds = keepalive_seconds
        self.memory_total = memory_total
        self.domains_max = domains_max
        self.image_limit = image_limit
        self.body_limit = body_limit
        self.image_store_limit = image_store_limit
        self.images_max = images_max
        self.metrics_public = metrics_public
        self.ui_dir = Path(ui_dir)
        self.header_limit = 8192
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.domains = {}          # id -> dict (internal fields start with _)
        self.images = {}           # name -> {"name", "sha256", "size"}
        self.events = []           # [start, end, record]
        self.events_end = 0
        self.next_id = 1
        self.stopping = False
        self.generation = 0        # streams end when it changes (drop_streams)
        self.requests = []         # (method, path, headers) seen, for tests
        self.snapshots = {}        # name -> snapshot object (and _private fields)
        self.server = None
        self._add_domain("control", 16 << 20, "0" * 64, boot=True, privileged=True)

    # ---- running ----------------------------------------------------------------
    def start(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # ---- state the tests drive ------------------------------------------------
    def drop_streams(self):
        """End every open console and event stream (as a proxy or a restarted
        control domain would); clients are expected to resume."""
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def emit(self, record):
        """Append an event record (the text after '@event ')."""
        with self.cond:
            start = self.events_end
            self.events_end += len(record) + 1
            self.events.append((start, self.events_end, record))
            size = sum(e[1] - e[0] for e in self.events)
            while size > self.event_ring and len(self.events) > 1:
                size -= self.events[0][1] - self.events[0][0]
                self.events.pop(0)
            self.cond.notify_all()

    @property
    def events_first(self):
        return self.events[0][0] if self.events else self.events_end

    def console_write(self, domid, data):
        with self.cond:
            d = self.domains[domid]
            d["_console"].write(data)
            d["console_bytes"] += len(data)
            self.cond.notify_all()

    def add_cpu(self, domid, seconds):
        with self.cond:
            self.domains[domid]["cpu_seconds"] += seconds

    def end_domain(self, domid, code=0):
        """The guest exits: its last bytes stay readable until it is gone."""
        with self.cond:
            d = self.domains[domid]
            d["state"] = "ending"
            self.emit("domain-exited id=%d name=%s code=%d cpu_us=%d ran_on=0x1"
                      % (domid, d["name"], code, int(d["cpu_seconds"] * 1e6)))
            self._remove(domid)

    def _remove(self, domid):
        d = self.domains.pop(domid)
        d["_gone"] = True
        self.emit("domain-destroyed id=%d name=%s" % (domid, d["name"]))
        self.cond.notify_all()
        return d

    def _add_domain(self, name, memory, sha, boot=False, privileged=False, **cfg):
        domid = self.next_id
        self.next_id += 1
        d = {
            "id": domid, "name": name, "state": "running", "_image": cfg.pop("image", None),
            "image_sha256": sha, "args": cfg.pop("args", None if boot else []),
            "memory": memory, "memory_private": memory // 2, "memory_overhead": OVERHEAD,
            "cpus": cfg.pop("cpus", None) or [0, 1], "weight": cfg.pop("weight", 256),
            "last_cpu": 0, "cpu_seconds": 0.0, "_created": time.monotonic(),
            "hypercalls": 0, "context_switches": 0, "console_bytes": 0, "console_dropped": 0,
            "on_exit": cfg.pop("on_exit", None if boot else "destroy"),
            "on_crash": cfg.pop("on_crash", None if boot else "destroy"),
            "restart_limit": cfg.pop("restart_limit", None if boot else 3), "restarts": 0,
            "privileged": privileged, "boot": boot, "net": cfg.pop("net", None if boot else []),
            "_console": Ring(self.console_ring), "_gone": False,
        }
        assert not cfg, cfg
        self.domains[domid] = d
        self.emit("domain-created id=%d name=%s memory_kib=%d private_kib=%d overhead_kib=%d "
                  "build_us=300 restart=0" % (domid, name, memory >> 10, memory >> 11,
                                              OVERHEAD >> 10))
        self.emit("domain-started id=%d name=%s cpu=0" % (domid, name))
        return d

    # ---- views -----------------------------------------------------------------
    def memory_free(self):
        used = sum(d["memory"] + d["memory_overhead"] for d in self.domains.values())
        return self.memory_total - used

    def view(self, d):
        v = {k: val for k, val in d.items() if not k.startswith("_")}
        v["uptime_seconds"] = round(time.monotonic() - d["_created"], 6)
        v["cpu_seconds"] = round(d["cpu_seconds"], 6)
        names = [n for n, i in sorted(self.images.items()) if i["sha256"] == d["image_sha256"]]
        v["image"] = d["_image"] if d["_image"] in names else (names[0] if names else None)
        return v

    def image_view(self, img):
        users = sum(1 for d in self.domains.values() if d["image_sha256"] == img["sha256"])
        return dict(img, users=users)

    def host(self):
        return {
            "version": "0.1.0", "api_version": 1, "abi_version": 1,
            "cpus_started": 2, "cpus_found": 2,
            "memory_total": self.memory_total, "memory_free": self.memory_free(),
            "uptime_seconds": round(time.monotonic() - self.started, 6),
            "domains_live": len(self.domains), "domains_max": self.domains_max,
            "control_id": 1, "images": len(self.images),
            "image_store_bytes": sum(i["size"] for i in self.images.values()),
            "image_store_limit": self.image_store_limit,
        }

    def find(self, ref):
        d = None
        if ref.isdigit():
            d = self.domains.get(int(ref))
        else:
            d = next((x for x in self.domains.values() if x["name"] == ref), None)
        if d is None:
            raise HttpError(404, "no_such_domain", "no domain %s" % (
                ref if ref.isdigit() else '"%s"' % ref))
        return d

    # ---- create ------------------------------------------------------------------
    def create(self, req):
        known = {"name", "image", "memory", "args", "cpus", "weight", "net", "on_exit",
                 "on_crash", "restart_limit"}
        for k in req:
            if k not in known:
                raise bad(k, "%s: not a field of a create request" % k, "unknown_field")
        for k in ("name", "image", "memory"):
            if k not in req:
                raise bad(k, "%s: required" % k, "missing_field")
        name = req["name"]
        if not isinstance(name, str) or not NAME_RE.match(name) or name.isdigit():
            raise bad("name", "name: %s is not a name (1-31 of A-Z a-z 0-9 _ . -, starting "
                      "with a letter or digit, not all digits)" % json.dumps(name))
        memory = integer(req, "memory", MEMORY_MIN, MEMORY_MAX)
        if memory % 4096:
            raise bad("memory", "memory: %d is not a multiple of 4096 (use %d..%d bytes in "
                      "4 KiB pages)" % (memory, MEMORY_MIN, MEMORY_MAX))
        args = req.get("args", [])
        if not isinstance(args, list) or not all(isinstance(x, str) for x in args):
            raise bad("args", "args: must be an array of strings")
        if any("\0" in x for x in args):
            raise bad("args", "args: NUL bytes are not allowed")
        cmdline = " ".join([name] + ['"%s"' % x.replace("\\", "\\\\").replace('"', '\\"')
                                     for x in args])
        if len(cmdline.encode("utf-8")) > CMDLINE_MAX:
            raise bad("args", "args: the command line would be %d bytes (at most %d)"
                      % (len(cmdline.encode("utf-8")), CMDLINE_MAX))
        cpus = req.get("cpus")
        if cpus is not None:
            if (not isinstance(cpus, list) or not cpus
                    or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 63
                               for c in cpus)):
                raise bad("cpus", "cpus: must be a non-empty array of CPU numbers 0..63, or null")
            cpus = sorted(set(c for c in cpus if c < 2)) or [0, 1]
        weight = integer(req, "weight", 1, 65535, 256)
        actions = {}
        for k in ("on_exit", "on_crash"):
            actions[k] = req.get(k, "destroy")
            if actions[k] not in ("destroy", "restart"):
                raise bad(k, "%s: %s (use destroy or restart)" % (k, json.dumps(actions[k])))
        restart_limit = integer(req, "restart_limit", 0, 1000, 3)
        nets = req.get("net", [])
        if not isinstance(nets, list) or len(nets) > 4:
            raise bad("net", "net: must be an array of at most 4 devices")
        nets = [net_device(n, i) for i, n in enumerate(nets)]

        image = req["image"]
        if not isinstance(image, str):
            raise bad("image", "image: must be a string")
        with self.cond:
            if image.startswith("sha256:"):
                img = next((i for i in self.images.values() if i["sha256"] == image[7:]), None)
            else:
                img = self.images.get(image)
            if img is None:
                raise HttpError(404, "no_such_image", "image: no image %s in the store"
                                % json.dumps(image), field="image")
            if any(d["name"] == name for d in self.domains.values()):
                raise HttpError(409, "name_taken", 'a live domain is named "%s"' % name)
            macs = {n["mac"] for d in self.domains.values() for n in d["net"] or []}
            for i, n in enumerate(nets):
                if n.get("mac") in macs:
                    raise HttpError(409, "mac_taken", "net.%d.mac: %s is in use" % (i, n["mac"]))
                if n.get("mac"):
                    macs.add(n["mac"])
            if len(self.domains) >= self.domains_max:
                raise HttpError(507, "admission_refused", "no room for another domain (%d of %d)"
                                % (len(self.domains), self.domains_max), resource="domains",
                                requested=1, available=0)
            need, free = memory + OVERHEAD, self.memory_free()
            if need > free:
                raise HttpError(507, "admission_refused",
                                'not enough memory for domain "%s": needs %d bytes, %d free'
                                % (name, need, free), resource="memory", requested=need,
                                available=free)
            for i, n in enumerate(nets):
                if "mac" not in n:
                    n["mac"] = "02:00:00:%02x:%02x:%02x" % (self.next_id >> 8 & 255,
                                                            self.next_id & 255, i)
                n["port"] = "%s.net%d" % (name, i)
                n.setdefault("dhcp", False)
                n.setdefault("guard", "ip")
            d = self._add_domain(name, memory, img["sha256"], image=img["name"], args=args,
                                 cpus=cpus, weight=weight, net=nets,
                                 restart_limit=restart_limit, **actions)
            d["_console"].write(b'Hello from Paravane! I am domain %d, "%s".\n'
                                % (d["id"], name.encode()))
            d["console_bytes"] = d["_console"].end
            return self.view(d)

    # ---- images -------------------------------------------------------------------
    def put_image(self, name, data):
        if not NAME_RE.match(name) or name.isdigit():
            raise bad("name", "name: %s is not an image name" % json.dumps(name))
        why = check_elf(data)
        if why:
            raise HttpError(400, "bad_image", why)
        sha = hashlib.sha256(data).hexdigest()
        with self.cond:
            old = self.images.get(name)
            if old:
                if old["sha256"] == sha:
                    return 200, self.image_view(old)
                raise HttpError(409, "image_exists", "image %s holds other bytes (sha256 %s); "
                                "delete it first" % (name, old["sha256"]))
            if len(self.images) >= self.images_max:
                raise HttpError(507, "admission_refused", "the image store is full (%d images)"
                                % self.images_max, resource="images", requested=1, available=0)
            used = sum(i["size"] for i in self.images.values())
            if used + len(data) > self.image_store_limit:
                left = self.image_store_limit - used
                raise HttpError(507, "admission_refused", "the image store has %d bytes left, "
                                "the image is %d" % (left, len(data)), resource="image_store",
                                requested=len(data), available=left)
            img = self.images[name] = {"name": name, "sha256": sha, "size": len(data)}
            return 201, self.image_view(img)

    def delete_image(self, name):
        with self.cond:
            img = self.get_image(name)
            others = [n for n, i in self.images.items() if i["sha256"] == img["sha256"] and n != name]
            users = [d for d in self.domains.values() if d["image_sha256"] == img["sha256"]]
            if users and not others:
                raise HttpError(409, "image_in_use", "image %s is used by %s" % (
                    name, ", ".join('%d "%s"' % (d["id"], d["name"]) for d in users)))
            view = self.image_view(img)
            del self.images[name]
            return view

    def get_image(self, name):
        img = self.images.get(name)
        if img is None:
            raise HttpError(404, "no_such_image", "no image %s" % json.dumps(name))
        return img

    # ---- metrics --------------------------------------------------------------------
    def metrics(self):
        h = self.host()
        fam = []

        def family(name, kind, help_, samples):
            fam.append("# HELP %s %s\n# TYPE %s %s\n" % (name, help_, name, kind))
            for labels, value in samples:
                lab = ",".join('%s="%s"' % (k, prom_escape(str(v))) for k, v in labels)
                fam.append("%s%s %s\n" % (name, "{%s}" % lab if lab else "", value))

        family("paravane_host_cpus", "gauge", "CPUs started.", [((), h["cpus_started"])])
        family("paravane_host_cpus_found", "gauge", "CPUs the firmware reported.",
               [((), h["cpus_found"])])
        family("paravane_host_memory_total_bytes", "gauge", "Memory the hypervisor manages.",
               [((), h["memory_total"])])
        family("paravane_host_memory_free_bytes", "gauge", "Memory free and not promised.",
               [((), h["memory_free"])])
        family("paravane_host_uptime_seconds", "gauge", "Time since the hypervisor started.",
               [((), h["uptime_seconds"])])
        family("paravane_host_domains", "gauge", "Live domains.", [((), h["domains_live"])])
        family("paravane_host_domains_max", "gauge", "Most domains there may be.",
               [((), h["domains_max"])])
        cpus = [(("cpu", c),) for c in range(h["cpus_started"])]
        for name, help_ in (("idle_seconds_total", "Time the CPU spent idle."),
                            ("context_switches_total", "Context switches on the CPU."),
                            ("wakeups_total", "Domains woken onto the CPU."),
                            ("steals_total", "Domains the CPU stole from others."),
                            ("timer_interrupts_total", "LAPIC timer interrupts.")):
            family("paravane_cpu_" + name, "counter", help_, [(l, 0) for l in cpus])
        doms = [self.view(d) for d in sorted(self.domains.values(), key=lambda d: d["id"])]
        ids = [((("id", d["id"]), ("name", d["name"])), d) for d in doms]
        family("paravane_domain_info", "gauge", "One series per live domain, with its state.",
               [((("id", d["id"]), ("name", d["name"]), ("state", d["state"]),
                  ("image_sha256", d["image_sha256"])), 1) for d in doms])
        for name, kind, key, help_ in (
                ("cpu_seconds_total", "counter", "cpu_seconds", "CPU time used by the domain."),
                ("memory_bytes", "gauge", "memory", "Memory given to the domain."),
                ("memory_private_bytes", "gauge", "memory_private", "Frames the domain owns."),
                ("memory_overhead_bytes", "gauge", "memory_overhead",
                 "Hypervisor memory spent on the domain."),
                ("uptime_seconds", "gauge", "uptime_seconds", "Time since the domain was created."),
                ("hypercalls_total", "counter", "hypercalls", "Hypercalls made."),
                ("context_switches_total", "counter", "context_switches", "Times switched to."),
                ("console_bytes_total", "counter", "console_bytes", "Console bytes written."),
                ("console_dropped_bytes_total", "counter", "console_dropped",
                 "Console bytes dropped."),
                ("restarts_total", "counter", "restarts", "Restarts under this name.")):
            family("paravane_domain_" + name, kind, help_, [(l, d[key]) for l, d in ids])
        ports = [(("port", n["port"]),) for d in doms for n in d["net"] or []]
        for name, help_ in (("rx_frames_total", "Frames the switch took in from the port."),
                            ("rx_bytes_total", "Bytes the switch took in from the port."),
                            ("tx_frames_total", "Frames the switch sent out of the port."),
                            ("tx_bytes_total", "Bytes the switch sent out of the port.")):
            family("paravane_net_" + name, "counter", help_, [(l, 0) for l in ports])
        family("paravane_net_dropped_frames_total", "counter", "Frames dropped at the port.",
               [(l + (("reason", r),), 0) for l in ports
                for r in ("spoof", "ip_spoof", "tx", "invalid", "storm")])
        return "".join(fam)


def prom_escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def integer(req, key, lo, hi, default=None):
    if key not in req:
        return default
    v = req[key]
    if not isinstance(v, int) or isinstance(v, bool):
        raise bad(key, "%s: must be an integer" % key)
    if not lo <= v <= hi:
        raise bad(key, "%s: %d is out of range (use %d..%d)" % (key, v, lo, hi))
    return v


def net_device(n, i):
    where = "net.%d" % i
    if not isinstance(n, dict):
        raise bad(where, "%s: must be an object" % where)
    for k in n:
        if k not in ("mac", "ip", "prefix", "gw", "dhcp", "guard"):
            raise bad("%s.%s" % (where, k), "%s.%s: not a field of a net device" % (where, k),
                      "unknown_field")
    out = {}
    if "mac" in n:
        mac = n["mac"]
        if not isinstance(mac, str) or not MAC_RE.match(mac):
            raise bad(where + ".mac", "%s.mac: %s is not XX:XX:XX:XX:XX:XX" % (where, json.dumps(mac)))
        octets = [int(x, 16) for x in mac.split(":")]
        if octets[0] & 1 or not any(octets):
            raise bad(where + ".mac", "%s.mac: %s is multicast or zero" % (where, mac))
        out["mac"] = mac.lower()
    dhcp = n.get("dhcp", False)
    if not isinstance(dhcp, bool):
        raise bad(where + ".dhcp", "%s.dhcp: must be true or false" % where)
    if ("ip" in n) == dhcp:
        raise bad(where + ".ip", "%s: give exactly one of ip and dhcp: true" % where)
    if "ip" in n:
        ip = n["ip"]
        if not isinstance(ip, str) or not IPV4_RE.match(ip) or any(int(o) > 255 for o in ip.split(".")):
            raise bad(where + ".ip", "%s.ip: %s is not an IPv4 address" % (where, json.dumps(ip)))
        if "prefix" not in n:
            raise bad(where + ".prefix", "%s.prefix: required with ip" % where, "missing_field")
        prefix = integer(n, "prefix", 1, 32) if isinstance(n["prefix"], int) else None
        if prefix is None:
            raise bad(where + ".prefix", "%s.prefix: must be an integer 1..32" % where)
        out.update(ip=ip, prefix=prefix)
        if "gw" in n:
            gw = n["gw"]
            net = ipaddress.ip_network("%s/%d" % (ip, prefix), strict=False)
            if (not isinstance(gw, str) or not IPV4_RE.match(gw)
                    or ipaddress.ip_address(gw) not in net or gw == ip):
                raise bad(where + ".gw", "%s.gw: %s is not a gateway inside %s" % (
                    where, json.dumps(gw), net))
            out["gw"] = gw
    else:
        for k in ("prefix", "gw"):
            if k in n:
                raise bad("%s.%s" % (where, k), "%s.%s: only with ip" % (where, k))
        out["dhcp"] = True
    guard = n.get("guard", "ip")
    if guard not in ("ip", "mac"):
        raise bad(where + ".guard", "%s.guard: %s (use ip or mac)" % (where, json.dumps(guard)))
    out["guard"] = guard
    return out


def check_elf(data):
    """The fake's loader: a few of the real loader's messages (hypervisor/core/elf_image.c)."""
    if len(data) < 64:
        return "file too short for an ELF header (%d bytes)" % len(data)
    if data[:4] != b"\x7fELF":
        return "not an ELF file"
    if data[4] != 2 or data[5] != 1:
        return "not a 64-bit little-endian ELF"
    if b"Paravane" not in data:
        return ("no Paravane ABI note (image not built with the Paravane SDK?); "
                "need ABI version 1")
    return None


def route_regex(template):
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(template)) + "$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-paravane/1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    # ---- plumbing -----------------------------------------------------------------
    def dispatch(self, method):
        fake = self.server.fake
        self.body_done = False
        self.method = method
        fake.requests.append((method, self.path, dict(self.headers)))
        try:
            self.route(fake, method)
        except HttpError as e:
            err = {"code": e.code, "message": e.message}
            err.update(e.extra)
            hdrs = []
            if e.status == 401:
                hdrs.append(("WWW-Authenticate", 'Bearer realm="paravane"'))
            if e.status == 405:
                hdrs.append(("Allow", e.extra.pop("allow")))
                err.pop("allow", None)
            self.send_json(e.status, {"error": err}, hdrs)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if not self.body_done and int(self.headers.get("Content-Length") or 0) > 0:
            self.linger()

    def linger(self):
        """Answered before reading the body: read and drop what the client
        still sends, for a short time, then close (so it sees the answer)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            end = time.monotonic() + 2.0
            while time.monotonic() < end and self.connection.recv(65536):
                pass
        except OSError:
            pass

    def send_json(self, status, obj, headers=()):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status, STATUS_TEXT.get(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.method != "HEAD":
            self.wfile.write(data)

    def send_text(self, status, data, ctype, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self, ctype, headers=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-store")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def body(self, limit, required=True):
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "length_required", "send the body with Content-Length "
                            "(chunked request bodies are not taken)")
        cl = self.headers.get("Content-Length")
        if cl is None:
            if required:
                raise HttpError(411, "length_required", "Content-Length is required")
            return b""
        if not cl.isdigit():
            raise HttpError(400, "bad_request", "bad Content-Length %r" % cl)
        n = int(cl)
        if n > limit:
            raise HttpError(413, "too_large", "the body is %d bytes; at most %d here" % (n, limit),
                            limit=limit)
        data = self.rfile.read(n)
        self.body_done = True
        return data

    def json_body(self, fake):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HttpError(415, "unsupported_media_type", "send JSON with Content-Type: "
                            "application/json (got %s)" % (ctype or "none"))
        data = self.body(fake.body_limit)

        def pairs(kv):
            keys = [k for k, _ in kv]
            dup = next((k for k in keys if keys.count(k) > 1), None)
            if dup is not None:
                raise HttpError(400, "bad_json", "duplicate key %s" % json.dumps(dup))
            return dict(kv)

        def no_constants(c):
            raise HttpError(400, "bad_json", "%s is not JSON" % c)
        try:
            obj = json.loads(data.decode("utf-8"), object_pairs_hook=pairs,
                             parse_constant=no_constants)
        except (ValueError, UnicodeDecodeError) as e:
            raise HttpError(400, "bad_json", "the body is not JSON: %s" % e)
        if not isinstance(obj, dict):
            raise HttpError(400, "bad_json", "the body must be a JSON object")
        return obj

    def no_body(self, fake):
        data = self.body(fake.body_limit, required=False)
        if data.strip() not in (b"", b"{}"):
            raise HttpError(400, "unknown_field", "this route takes no body")

    def query(self, name, default):
        vals = self.params.get(name)
        if not vals:
            return default
        v = vals[-1]
        if not v.isdigit() or int(v) > 2 ** 63 - 1:
            raise HttpError(400, "bad_parameter", "%s: %r is not a number 0..2^63-1" % (name, v),
                            field=name)
        return int(v)

    def query_str(self, name, default):
        vals = self.params.get(name)
        return vals[-1] if vals else default

    def follow_param(self):
        v = self.query("follow", None)
        if v not in (None, 0, 1):
            raise HttpError(400, "bad_parameter", "follow: use 0 or 1", field="follow")
        return v

    # ---- routes ------------------------------------------------------------------
    def route(self, fake, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        size = len(self.requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if size > fake.header_limit:
            self.close_connection = True
            raise HttpError(431, "headers_too_large", "request line and headers are %d bytes; "
                            "at most %d" % (size, fake.header_limit), limit=fake.header_limit)
        public = path == "/" or path.startswith("/ui/") or (path == "/metrics" and fake.metrics_public)
        if not public:
            auth = self.headers.get("Authorization")
            if auth is None:
                raise HttpError(401, "unauthorized", "no token: send Authorization: Bearer TOKEN")
            scheme, _, token = auth.partition(" ")
            if scheme != "Bearer" or not hmac.compare_digest(token.encode(), fake.token.encode()):
                raise HttpError(401, "unauthorized", "wrong token")
        allowed = []
        for m, tmpl in ROUTES:
            match = route_regex(tmpl).match(path)
            if match:
                allowed.append(m)
                if m == method:
                    args = [urllib.parse.unquote(g) for g in match.groups()]
                    name = ("r_%s_%s" % (m, re.sub(r"\W+", "_", tmpl).strip("_"))).rstrip("_")
                    return getattr(self, name)(fake, *args)
        if allowed:
            raise HttpError(405, "method_not_allowed", "%s is not served on %s (use %s)"
                            % (method, path, ", ".join(allowed)), allow=", ".join(allowed))
        raise HttpError(404, "not_found", "no route %s" % path)

    def r_GET_v1_host(self, fake):
        with fake.cond:
            self.send_json(200, fake.host())

    def r_GET_v1_domains(self, fake):
        with fake.cond:
            doms = [fake.view(d) for _, d in sorted(fake.domains.items())]
        self.send_json(200, {"domains": doms})

    def r_POST_v1_domains(self, fake):
        d = fake.create(self.json_body(fake))
        self.send_json(201, d, [("Location", "/v1/domains/%d" % d["id"])])

    def r_GET_v1_domains_ref(self, fake, ref):
        with fake.cond:
            self.send_json(200, fake.view(fake.find(ref)))

    def r_DELETE_v1_domains_ref(self, fake, ref):
        with fake.cond:
            d = fake.find(ref)
            if d["id"] == 1:
                raise HttpError(403, "forbidden", "domain 1 (control) is the control domain")
            if d["state"] == "ending":
                raise HttpError(409, "wrong_state", 'domain %d "%s" is already ending'
                                % (d["id"], d["name"]))
            d["state"] = "ending"
            view = fake.view(d)
            fake._remove(d["id"])
        self.send_json(200, view)

    def pause_resume(self, fake, ref, pause):
        self.no_body(fake)
        with fake.cond:
            d = fake.find(ref)
            if d["id"] == 1 and pause:
                raise HttpError(403, "forbidden", "domain 1 (control) is the control domain")
            if d["state"] == "ending" or (d["state"] == "paused") == pause:
                raise HttpError(409, "wrong_state", 'domain %d "%s" is %s' % (
                    d["id"], d["name"], d["state"] if d["state"] != "running" else "not paused"))
            d["state"] = "paused" if pause else "running"
            fake.emit("domain-%s id=%d name=%s" % ("paused" if pause else "resumed",
                                                   d["id"], d["name"]))
            self.send_json(200, fake.view(d))

    def r_POST_v1_domains_ref_pause(self, fake, ref):
        self.pause_resume(fake, ref, True)

    def r_POST_v1_domains_ref_resume(self, fake, ref):
        self.pause_resume(fake, ref, False)

    def r_GET_v1_domains_ref_console(self, fake, ref):
        offset = self.query("offset", 0)
        follow = self.follow_param()
        with fake.cond:
            d = fake.find(ref)
            ring = d["_console"]
            if not follow:
                start, lost, data = ring.read(offset, 64 << 10)
                return self.send_text(200, data, "text/plain; charset=utf-8", [
                    ("Paravane-Console-Offset", str(start)),
                    ("Paravane-Console-Next", str(start + len(data))),
                    ("Paravane-Console-Lost", str(lost))])
            pos, lost, _ = ring.read(offset, 0)
            gen = fake.generation
        self.start_stream("text/plain; charset=utf-8", [("Paravane-Console-Offset", str(pos)),
                                                        ("Paravane-Console-Lost", str(lost))])
        quiet_until = time.monotonic() + fake.quiet_seconds
        while True:
            with fake.cond:
                while (ring.end == pos and not d["_gone"] and not fake.stopping
                       and gen == fake.generation and time.monotonic() < quiet_until):
                    fake.cond.wait(max(0.0, quiet_until - time.monotonic()))
                if pos < ring.start or fake.stopping or gen != fake.generation:
                    break                              # fell behind: the client resumes
                _, _, data = ring.read(pos, 64 << 10)
                if not data:
                    break                              # quiet, or the domain is gone
            self.chunk(data)
            pos += len(data)
            quiet_until = time.monotonic() + fake.quiet_seconds
        self.end_stream()

    # ---- save and restore: the stream is the magic, then the domain as JSON;
    # enough for pvctl's side (the real format is docs/migration.md) ----
    def r_GET_v1_domains_ref_save(self, fake, ref):
        then = self.query_str("then", "resume")
        if then not in ("resume", "pause", "destroy"):
            raise HttpError(400, "bad_parameter", "then: resume, pause or destroy", field="then")
        with fake.cond:
            d = fake.find(ref)
            if d["id"] == 1:
                raise HttpError(403, "forbidden", "the control domain cannot save itself")
            data = SAVE_MAGIC + json.dumps({k: v for k, v in d.items() if not k.startswith("_")}).encode()
            if then == "pause":
                d["state"] = "paused"
            elif then == "destroy":
                fake._remove(d["id"])
        self.start_stream("application/octet-stream", [("Paravane-Save-Bytes", str(len(data))),
                                                       ("Paravane-Save-Pages", "1")])
        for i in range(0, len(data), 7):
            self.chunk(data[i:i + 7])
        self.end_stream()

    def r_POST_v1_restore(self, fake):
        data = self.body(1 << 30)
        name = self.query_str("name", None)
        if not data.startswith(SAVE_MAGIC):
            raise HttpError(400, "bad_stream", "bad magic number: not a save stream")
        try:
            saved = json.loads(data[len(SAVE_MAGIC):])
        except ValueError:
            raise HttpError(400, "bad_stream", "stream truncated (1 records read)")
        with fake.cond:
            name = name or saved["name"]
            if any(d["name"] == name for d in fake.domains.values()):
                raise HttpError(409, "name_taken", "DOMAIN: name: a live domain already has it")
            d = fake._add_domain(name, saved["memory"], saved["image_sha256"], args=saved["args"])
            view = fake.view(d)
        self.send_json(201, view, [("Location", "/v1/domains/%d" % d["id"])])

    # ---- migration: progress lines, no second host ----
    # A destination URL on port 1 refuses (as a destination with the name taken).
    def r_POST_v1_domains_ref_migrate(self, fake, ref):
        req = self.json_body(fake)
        if set(req) - {"to", "token", "name"}:
            raise bad(sorted(set(req) - {"to", "token", "name"})[0], "not a field here", "unknown_field")
        to = req.get("to")
        if not isinstance(to, str) or not re.match(r"^http://\d+\.\d+\.\d+\.\d+(:\d+)?/?$", to):
            raise bad("to", "to: http://A.B.C.D[:port], an IPv4 address", "missing_field" if to is None else "bad_field")
        with fake.cond:
            d = fake.find(ref)
            if d["id"] == 1:
                raise HttpError(403, "forbidden", "the control domain cannot migrate itself")
            refused = to.rstrip("/").endswith(":1")
            if not refused:
                fake._remove(d["id"])
        hostport = to[len("http://"):].rstrip("/")
        totals = {"pages_sent": 300, "bytes_sent": 1234567, "elapsed_ms": 42}
        lines = [dict(event="round", round=1, **totals), dict(event="round", round=2, **totals),
                 dict(event="stopped", round=2, **totals)]
        over = dict(event="over", result="failed" if refused else "migrated", to=hostport,
                    domain=req.get("name", d["name"]), round=2, stopped_ms=7, **totals)
        if refused:
            over["error"] = {"code": "destination_refused",
                             "message": "the destination answered 409 name_taken: DOMAIN: name: a live domain "
                                        "already has it"}
        self.start_stream("application/x-ndjson", [])
        for line in lines + [over]:
            self.chunk((json.dumps(line) + "\n").encode())
        self.end_stream()

    # ---- snapshots and clones: names and counts, no memory ----
    def snapshot_named(self, fake, name):
        s = fake.snapshots.get(name)
        if s is None:
            raise HttpError(404, "no_such_snapshot", 'no snapshot "%s"' % name)
        return s

    def r_POST_v1_domains_ref_snapshot(self, fake, ref):
        req = self.json_body(fake)
        name, then = req.get("name"), req.get("then", "resume")
        if set(req) - {"name", "then"}:
            raise bad(sorted(set(req) - {"name", "then"})[0], "not a field here", "unknown_field")
        if not isinstance(name, str) or not NAME_RE.match(name) or name.isdigit():
            raise bad("name", "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits")
        if then not in ("resume", "pause", "destroy"):
            raise bad("then", "then: resume, pause or destroy")
        with fake.cond:
            d = fake.find(ref)
            if d["id"] == 1:
                raise HttpError(403, "forbidden", "the control domain cannot snapshot itself")
            if name in fake.snapshots:
                raise HttpError(409, "snapshot_exists", "name: a snapshot already has it", field="name")
            s = {"name": name, "domain": d["name"], "image_sha256": d["image_sha256"],
                 "memory": d["memory"], "bytes": d["memory"] // 2, "clones": 0,
                 "net_count": len(d["net"] or []), "taken_at_seconds": 1.0,
                 "_args": d["args"], "_image": d["_image"]}
            fake.snapshots[name] = s
            if then == "pause":
                d["state"] = "paused"
            elif then == "destroy":
                fake._remove(d["id"])
        self.send_json(201, self.snapshot_view(s), [("Location", "/v1/snapshots/" + name)])

    def snapshot_view(self, s):
        return {k: v for k, v in s.items() if not k.startswith("_")}

    def r_GET_v1_snapshots(self, fake):
        with fake.cond:
            self.send_json(200, {"snapshots": [self.snapshot_view(s) for _, s in sorted(fake.snapshots.items())]})

    def r_GET_v1_snapshots_name(self, fake, name):
        with fake.cond:
            self.send_json(200, self.snapshot_view(self.snapshot_named(fake, name)))

    def r_DELETE_v1_snapshots_name(self, fake, name):
        with fake.cond:
            s = self.snapshot_named(fake, name)
            del fake.snapshots[name]
        self.send_json(200, self.snapshot_view(s))

    def r_POST_v1_snapshots_name_clone(self, fake, name):
        req = self.json_body(fake)
        with fake.cond:
            s = self.snapshot_named(fake, name)
        count = integer(req, "count", 1, 1000, 1)
        base = req.get("name")
        if not isinstance(base, str) or not NAME_RE.match(base):
            raise bad("name", "name: 1..31 of A-Z a-z 0-9 _ . -, not all digits")
        made = []
        for k in range(count):
            d = fake.create({"name": base if count == 1 else "%s-%d" % (base, k + 1),
                             "image": s["_image"] or "hello", "memory": s["memory"]})
            made.append(d)
        with fake.cond:
            s["clones"] += count
        self.send_json(201, {"domains": made})

    def r_GET_v1_images(self, fake):
        with fake.cond:
            imgs = [fake.image_view(i) for _, i in sorted(fake.images.items())]
        self.send_json(200, {"images": imgs})

    def r_PUT_v1_images_name(self, fake, name):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype not in ("", "application/octet-stream", "application/x-executable"):
            raise HttpError(415, "unsupported_media_type", "send the raw ELF file as "
                            "application/octet-stream (got %s)" % ctype)
        data = self.body(fake.image_limit)
        status, img = fake.put_image(name, data)
        self.send_json(status, img, [("Location", "/v1/images/" + name)] if status == 201 else [])

    def r_GET_v1_images_name(self, fake, name):
        with fake.cond:
            self.send_json(200, fake.image_view(fake.get_image(name)))

    def r_DELETE_v1_images_name(self, fake, name):
        self.send_json(200, fake.delete_image(name))

    def r_GET_v1_events(self, fake):
        last = self.headers.get("Last-Event-ID")
        if last is not None:
            if not last.strip().isdigit():
                raise HttpError(400, "bad_parameter", "Last-Event-ID: %r is not an event id" % last,
                                field="Last-Event-ID")
            pos = int(last)
        else:
            pos = self.query("offset", 0)
        follow = self.follow_param() != 0
        gen = fake.generation
        self.start_stream("text/event-stream")
        self.chunk(b"retry: 3000\n\n")
        idle_until = time.monotonic() + fake.keepalive_seconds

        def collect():
            nonlocal pos
            out = []
            if pos < fake.events_first:
                out.append((fake.events_first, "events-lost from=%d to=%d" % (pos, fake.events_first)))
                pos = fake.events_first
            out += [(end, rec) for start, end, rec in fake.events if start >= pos]
            if out:
                pos = out[-1][0]
            return out
        try:
            while True:
                with fake.cond:
                    out = collect()
                    if not out and follow and not fake.stopping and gen == fake.generation:
                        fake.cond.wait(max(0.0, idle_until - time.monotonic()))
                        out = collect()
                    stopping = fake.stopping or gen != fake.generation
                if out:
                    self.chunk("".join("id: %d\ndata: %s\n\n" % (i, r) for i, r in out).encode())
                    idle_until = time.monotonic() + fake.keepalive_seconds
                elif follow and time.monotonic() >= idle_until:
                    self.chunk(b": keepalive\n\n")
                    idle_until = time.monotonic() + fake.keepalive_seconds
                if not follow or stopping:
                    break
            self.end_stream()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def r_GET_metrics(self, fake):
        with fake.cond:
            text = fake.metrics()
        self.send_text(200, text.encode(), "text/plain; version=0.0.4; charset=utf-8")

    def r_GET(self, fake):
        self.send_ui_file(fake, "index.html")

    def r_GET_ui_file(self, fake, file):
        self.send_ui_file(fake, file)

    def send_ui_file(self, fake, file):
        """The dashboard's files, as the control domain serves them: a flat
        directory, Content-Type by extension, anything else 404."""
        ctype = UI_TYPES.get(file.rpartition(".")[2]) if UI_FILE_RE.match(file) else None
        path = fake.ui_dir / file
        if ctype is None or not path.is_file():
            raise HttpError(404, "not_found", "no file /ui/%s" % file)
        self.send_text(200, path.read_bytes(), ctype)
