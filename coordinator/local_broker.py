"""A private mosquitto broker on loopback, for tests, benchmarks and local runs. Host only.

Starts the real mosquitto (Debian package ``mosquitto``) with its own config in a
work directory: no anonymous clients, a password file, the per-controller topic
ACL of docs/coordination-protocol.md, client ids tied to user names
(``use_username_as_clientid``: a client's session is its user's, whatever client
id it sends, so one controller cannot take over another's connection or the
coordinator's persistent session), optionally a TLS listener with a throwaway
self-signed certificate (made with the ``openssl`` command), and persistence, so
a restart keeps the QoS 1 messages queued for persistent sessions. The settings
a production mosquitto.conf needs are GLOBAL_SETTINGS and, per listener, LISTENER_SETTINGS.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

COORDINATOR_USER = "coordinator"


class BrokerError(RuntimeError):
    """The broker could not be set up or started; the text says what to do."""


def find_mosquitto() -> str:
    """Path of the mosquitto binary (it lives in /usr/sbin on Debian, often off a user's PATH)."""
    path = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
                                              if os.access(p, os.X_OK)), None)
    if not path:
        raise BrokerError("mosquitto not found: install it (Debian: apt-get install mosquitto)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def controller_acl(prefix: str = "ampelwerk", coordinator_users: tuple[str, ...] = (COORDINATOR_USER,)) -> str:
    """mosquitto ACL text: each controller (username = its id) owns its own topics, the coordinator the plans.

    Every coordinator process needs a user of its own (client ids are tied to user names: two
    processes with one user would push each other off the broker).
    """
    lines = []
    for user in coordinator_users:
        lines += ["user %s" % user,
                  "topic read %s/+/report" % prefix,
                  "topic read %s/+/plan_status" % prefix,
                  "topic read %s/+/status" % prefix,
                  "topic readwrite %s/+/plan" % prefix,
                  "topic readwrite %s/+/priority" % prefix,  # preemption / transit priority requests
                  "topic read %s/+/priority_status" % prefix,
                  ""]
    return "\n".join(lines + [
        # patterns apply to every other user; %u is the client's username
        "pattern write %s/%%u/report" % prefix,
        "pattern write %s/%%u/plan_status" % prefix,
        "pattern write %s/%%u/status" % prefix,
        "pattern read %s/%%u/plan" % prefix,
        "pattern read %s/%%u/priority" % prefix,
        "pattern write %s/%%u/priority_status" % prefix,
        "",
    ])


# The mosquitto.conf lines the coordination's security rests on (docs/coordination.md, "Threat model").
GLOBAL_SETTINGS = ["allow_anonymous false"]
# After every `listener` line (mosquitto applies this one per listener, whatever per_listener_settings says):
# the client id is the user name, whatever the client sends, so with a controller's password one can only
# ever be that controller (no pushing another client off, no taking over its session).
LISTENER_SETTINGS = ["use_username_as_clientid true"]


def make_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A throwaway self-signed server certificate for ``host`` (valid 2 days): (cert, key).

    Clients trust it by using the certificate itself as their CA file.
    """
    if not shutil.which("openssl"):
        raise BrokerError("openssl not found: install it (Debian: apt-get install openssl) to test TLS")
    cert, key = folder / "server.crt", folder / "server.key"
    san = "IP:%s" % host if host.replace(".", "").isdigit() else "DNS:%s" % host
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=%s" % host, "-addext", "subjectAltName=%s" % san, "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class LocalBroker:
    """mosquitto on 127.0.0.1 with users, an ACL and optionally TLS; a context manager.

    ``users`` maps username -> password. ``acl`` is ACL text (default: controller_acl()).
    ``url`` is mqtt://127.0.0.1:<port>; with ``tls`` also ``tls_url`` (mqtts://...) and
    ``ca_file`` (the throwaway certificate clients should trust).
    """

    def __init__(self, workdir: Path, users: dict[str, str], acl: str | None = None, tls: bool = False,
                 persistence: bool = True, max_connections: int = -1, tcp_nodelay: bool = True,
                 extra_config: str = "") -> None:
        self.dir = Path(workdir)
        self.users = dict(users)
        self.acl = controller_acl() if acl is None else acl
        self.tls = tls
        self.persistence = persistence
        self.max_connections = max_connections
        self.tcp_nodelay = tcp_nodelay  # Nagle off: small QoS 1 messages otherwise wait ~40 ms for delayed ACKs
        self.extra_config = extra_config  # appended to mosquitto.conf (e.g. a bridge: coordinator/broker_config.py)
        self.port = 0
        self.tls_port = 0
        self.ca_file: Path | None = None
        self.proc: subprocess.Popen | None = None
        self._written = False

    @property
    def url(self) -> str:
        return "mqtt://127.0.0.1:%d" % self.port

    @property
    def tls_url(self) -> str:
        return "mqtts://127.0.0.1:%d" % self.tls_port

    def _write(self) -> None:
        d = self.dir
        d.mkdir(parents=True, exist_ok=True)
        (d / "data").mkdir(exist_ok=True)
        pw = d / "passwd"
        pw.write_text("".join("%s:%s\n" % (u, p) for u, p in self.users.items()))
        os.chmod(pw, 0o600)
        # -U hashes every plain-text password in the file at once
        r = subprocess.run(["mosquitto_passwd", "-U", str(pw)], capture_output=True, text=True)
        if r.returncode:
            raise BrokerError("mosquitto_passwd -U failed: %s (install the mosquitto package)" % r.stderr.strip())
        (d / "acl").write_text(self.acl)
        self.port = self.port or free_port()
        lines = ["per_listener_settings false"] + GLOBAL_SETTINGS + [
            "password_file %s" % pw,
            "acl_file %s" % (d / "acl"),
            "user %s" % getpass.getuser(),
            "persistence %s" % ("true" if self.persistence else "false"),
            "persistence_location %s/" % (d / "data"),
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "log_dest file %s" % (d / "mosquitto.log"),
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages false",
            "set_tcp_nodelay %s" % ("true" if self.tcp_nodelay else "false"),
            "listener %d 127.0.0.1" % self.port,
            "max_connections %d" % self.max_connections,
        ] + LISTENER_SETTINGS
        if self.tls:
            cert, key = make_certificate(d)
            self.ca_file = cert
            self.tls_port = self.tls_port or free_port()
            lines += ["listener %d 127.0.0.1" % self.tls_port, "max_connections %d" % self.max_connections,
                      "certfile %s" % cert, "keyfile %s" % key, "cafile %s" % cert] + LISTENER_SETTINGS
        conf = d / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n" + self.extra_config)
        os.chmod(conf, 0o600)  # a bridge section holds a password
        self._written = True

    def start(self, timeout_s: float = 10.0) -> "LocalBroker":
        """Start mosquitto (same port and files on a restart) and wait until it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        if not self._written:
            self._write()
        self.proc = subprocess.Popen([find_mosquitto(), "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        ports = [self.port] + ([self.tls_port] if self.tls else [])
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                log = self.dir / "mosquitto.log"
                raise BrokerError("mosquitto exited with %s: %s %s" % (
                    self.proc.returncode, err.strip(), log.read_text()[-2000:] if log.exists() else ""))
            if all(_accepts(p) for p in ports):
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError("mosquitto did not listen on 127.0.0.1:%s within %g s" % (ports, timeout_s))

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL); it saves its persistent state on the way out."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "LocalBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
