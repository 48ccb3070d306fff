# A small MQTT 3.1.1 client for the board's network link (umqtt-style), the
# same code on MicroPython and CPython. Runs on the board, never on the tick
# path. It never raises: every socket, TLS or protocol error closes the
# socket and leaves state DISCONNECTED with the reason in last_error; the
# caller reconnects when it likes (coordination_link.py does, with backoff).
#
# Time is handed in (now_ms: the caller's ticks_ms), like the core: the
# client reads no clock. Blocking is bounded: connect, the TLS handshake and
# writes use a socket timeout of timeout_ms; the CONNACK, PUBACKs, SUBACKs and
# PINGRESPs are picked up by check_msg(), which looks with poll(0) and reads
# only what is there, keeping a partial packet for the next call.
#
# TLS: the server's certificate is always verified against the CA given as
# DER bytes (ca_der; pem_to_der() converts). The unix port's mbedTLS parses
# DER only, and leaves verify_mode at CERT_NONE unless told: we set
# CERT_REQUIRED ourselves. The host name (server_hostname) is checked too.
import select
import socket

from controller.compat import const

DISCONNECTED = const(0)
CONNECTING = const(1)  # CONNECT sent, waiting for the CONNACK
CONNECTED = const(2)
STATE_NAMES = ("disconnected", "connecting", "connected")

# CONNACK return codes (MQTT 3.1.1, 3.2.2.3)
CONNACK_TEXT = ("accepted", "unacceptable protocol version", "client id rejected", "server unavailable",
                "bad user name or password", "not authorized")


def pem_to_der(pem):
    # PEM text (bytes or str) -> DER bytes of its first certificate; DER passes unchanged.
    from binascii import a2b_base64

    if isinstance(pem, str):
        pem = pem.encode()
    if not pem.lstrip().startswith(b"-----BEGIN"):
        return bytes(pem)
    body = []
    inside = False
    for line in pem.split(b"\n"):
        line = line.strip()
        if line.startswith(b"-----BEGIN CERTIFICATE"):
            inside = True
        elif line.startswith(b"-----END"):
            if inside:
                break
        elif inside and line:
            body.append(line)
    if not body:
        raise ValueError("no certificate in the PEM text")
    return a2b_base64(b"".join(body))


def _ticks_diff(a, b):
    # a - b for ticks_ms values (wrap at 2**30 on MicroPython); CPython callers pass plain ms.
    try:
        from time import ticks_diff

        return ticks_diff(a, b)
    except ImportError:
        return a - b


def _would_block(e):
    # A read that found no whole TLS record within the timeout (or would block).
    name = type(e).__name__
    if name in ("timeout", "TimeoutError", "SSLWantReadError"):
        return True
    return bool(e.args) and e.args[0] in (11, 110)  # EAGAIN, ETIMEDOUT


def _str16(buf, s):
    # Append a UTF-8 string with its 2-byte length (MQTT "UTF-8 encoded string").
    if isinstance(s, str):
        s = s.encode()
    buf.append(len(s) >> 8)
    buf.append(len(s) & 0xFF)
    buf.extend(s)


def _header(kind, remaining):
    # Fixed header: packet type/flags and the remaining length as a varint.
    h = bytearray((kind,))
    while True:
        b = remaining & 0x7F
        remaining >>= 7
        h.append(b | 0x80 if remaining else b)
        if not remaining:
            return h


class MqttClient:
    def __init__(self, client_id, host, port=1883, user=None, password=None, keepalive_s=60, clean_session=True,
                 tls=False, ca_der=None, server_hostname=None, timeout_ms=500, connack_timeout_ms=5000,
                 max_inflight=8, max_packet=4096):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive_ms = keepalive_s * 1000
        self.clean_session = clean_session
        self.tls = tls
        self.ca_der = ca_der
        self.server_hostname = server_hostname or host
        self.timeout_ms = timeout_ms
        self.connack_timeout_ms = connack_timeout_ms
        self.will = None  # (topic, message, retain, qos)
        self.on_message = None  # f(topic: str, payload: bytes)
        self.on_puback = None  # f(packet id)
        self.state = DISCONNECTED
        self.sock = None
        self.poller = None
        self.last_error = ""
        self.connack_code = -1  # the broker's last CONNACK code (0 = accepted)
        self.session_present = False
        self.suback_codes = []  # granted QoS per topic of the last SUBACK (0x80 = refused)
        self.skipped = 0  # incoming packets too big for the buffer, dropped whole
        # packet ids of QoS 1 publishes awaiting their PUBACK (0 = free slot)
        self.inflight = [0] * max_inflight
        self.next_pid = 1
        self.buf = bytearray(max_packet + 5)
        self.have = 0  # bytes in buf
        self.skip = 0  # bytes still to drop of an oversized packet
        self.last_tx = 0
        self.last_rx = 0
        self.ping_sent = -1  # now_ms of an unanswered PINGREQ, -1 = none
        self.started = 0

    # -- connection ------------------------------------------------------

    def set_last_will(self, topic, message, retain=False, qos=0):
        self.will = (topic, message, retain, qos)

    def connect(self, now_ms):
        # Open the socket (and TLS) and send CONNECT; True when CONNECT went
        # out (state CONNECTING: check_msg() brings the CONNACK), False with
        # last_error set when the broker could not be reached.
        self.close()
        self.connack_code = -1
        try:
            if self.tls and not self.ca_der:
                raise ValueError("TLS needs the broker's CA certificate (ca_der)")
            ai = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_STREAM)[0]
            s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
            self.sock = s
            s.settimeout(self.timeout_ms / 1000)
            s.connect(ai[-1])
            if self.tls:
                import ssl

                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(cadata=self.ca_der)
                s = ctx.wrap_socket(s, server_hostname=self.server_hostname)
                self.sock = s
            self.poller = select.poll()
            self.poller.register(s, select.POLLIN)
            self.have = self.skip = 0
            self.ping_sent = -1
            self.started = self.last_rx = now_ms
            self.state = CONNECTING
            return self._send(self._connect_packet(), now_ms)
        except Exception as e:  # OSError, TLS errors (ValueError on MicroPython), bad address
            self._drop("connect to %s:%d failed: %r" % (self.host, self.port, e))
            return False

    def _connect_packet(self):
        flags = 0x02 if self.clean_session else 0
        body = bytearray()
        _str16(body, "MQTT")
        body.append(4)  # protocol level 3.1.1
        if self.will is not None:
            flags |= 0x04 | (self.will[3] << 3) | (0x20 if self.will[2] else 0)
        if self.user is not None:
            flags |= 0x80
            if self.password is not None:
                flags |= 0x40
        body.append(flags)
        ka = self.keepalive_ms // 1000
        body.append(ka >> 8)
        body.append(ka & 0xFF)
        _str16(body, self.client_id)
        if self.will is not None:
            _str16(body, self.will[0])
            _str16(body, self.will[1])
        if self.user is not None:
            _str16(body, self.user)
            if self.password is not None:
                _str16(body, self.password)
        return _header(0x10, len(body)) + body

    def disconnect(self):
        # Polite goodbye (the broker then does not send the last will).
        if self.state == CONNECTED:
            self._send(b"\xe0\x00", self.last_tx)
        self.close()

    def close(self):
        # Drop the socket without a word (the broker sends the last will).
        s, self.sock = self.sock, None
        self.state = DISCONNECTED
        self.poller = None
        for i in range(len(self.inflight)):
            self.inflight[i] = 0
        if s is not None:
            try:
                s.close()
            except Exception:
                pass

    def _drop(self, why):
        self.last_error = why
        self.close()

    # -- sending ---------------------------------------------------------

    def _send(self, data, now_ms):
        s = self.sock
        if s is None:
            return False
        try:
            w = getattr(s, "sendall", None) or s.write
            w(data)
        except Exception as e:
            self._drop("send failed: %r" % (e,))
            return False
        self.last_tx = now_ms
        return True

    def _new_pid(self):
        pid = self.next_pid
        self.next_pid = 1 if pid >= 65535 else pid + 1
        return pid

    def inflight_free(self):
        n = 0
        for p in self.inflight:
            if p == 0:
                n += 1
        return n

    def publish(self, topic, message, retain=False, qos=0, now_ms=0):
        # QoS 0: True/False (sent or not). QoS 1: the packet id (1..65535)
        # awaiting its PUBACK (on_puback(pid) when it comes), or 0 when not
        # connected or the in-flight table is full (try again later).
        if self.state != CONNECTED or qos not in (0, 1):
            return 0 if qos else False
        if isinstance(topic, str):
            topic = topic.encode()
        if isinstance(message, str):
            message = message.encode()
        pid = 0
        if qos:
            slot = -1
            for i in range(len(self.inflight)):
                if self.inflight[i] == 0:
                    slot = i
                    break
            if slot < 0:
                return 0
            pid = self._new_pid()
        n = 2 + len(topic) + (2 if qos else 0) + len(message)
        pkt = _header(0x30 | (qos << 1) | (1 if retain else 0), n)
        _str16(pkt, topic)
        if qos:
            pkt.append(pid >> 8)
            pkt.append(pid & 0xFF)
        pkt.extend(message)
        if not self._send(pkt, now_ms):
            return 0 if qos else False
        if qos:
            self.inflight[slot] = pid
            return pid
        return True

    def subscribe(self, topic, qos=1, now_ms=0):
        # The packet id, or 0 when not connected; suback_codes holds the answer.
        if self.state != CONNECTED:
            return 0
        pid = self._new_pid()
        body = bytearray((pid >> 8, pid & 0xFF))
        _str16(body, topic)
        body.append(qos)
        return pid if self._send(_header(0x82, len(body)) + body, now_ms) else 0

    # -- receiving -------------------------------------------------------

    def check_msg(self, now_ms):
        # Read what the broker has sent (never waits), handle every whole
        # packet, keep the rest; ping when idle; give up on a silent broker.
        if self.sock is None:
            return self.state
        try:
            self._read(now_ms)
            if self.sock is not None:
                self._keepalive(now_ms)
        except Exception as e:  # a bug in a callback, no memory, ...: disconnect, never raise
            self._drop("receive failed: %r" % (e,))
        return self.state

    def _readable(self):
        s = self.sock
        pending = getattr(s, "pending", None)  # CPython TLS: decrypted bytes poll cannot see
        if pending is not None and pending():
            return True
        for _, ev in self.poller.poll(0):
            if ev:
                return True
        return False

    def _read(self, now_ms):
        if not self._readable():
            return
        s = self.sock
        room = len(self.buf) - self.have
        try:
            # recv: one read of what is there. MicroPython's readinto and
            # recv_into wait for the whole count and lose a partial read on
            # a timeout, so they are not used.
            data = s.recv(room)
        except OSError as e:
            if _would_block(e):  # part of a TLS record: the rest comes later
                return
            self._drop("receive failed: %r" % (e,))
            return
        if data is None:  # MicroPython: nothing after all
            return
        n = len(data)
        if not n:
            self._drop("the broker closed the connection")
            return
        self.buf[self.have:self.have + n] = data
        self.last_rx = now_ms
        self.have += n
        self._parse(now_ms)

    def _parse(self, now_ms):
        buf = self.buf
        pos = 0
        while self.sock is not None:
            if self.skip:  # the rest of an oversized packet
                k = min(self.skip, self.have - pos)
                self.skip -= k
                pos += k
                if self.skip:
                    break
            avail = self.have - pos
            if avail < 2:
                break
            # remaining length: 1..4 varint bytes
            n = 0
            shift = 0
            i = pos + 1
            while True:
                if i >= self.have:
                    n = -1
                    break
                b = buf[i]
                n |= (b & 0x7F) << shift
                i += 1
                if not b & 0x80:
                    break
                shift += 7
                if shift > 21:
                    self._drop("malformed packet: remaining length longer than 4 bytes")
                    return
            if n < 0:
                break
            start = i
            if start - pos + n > len(buf):
                # larger than the buffer: drop it whole, count it
                if buf[pos] & 0xF0 != 0x30:
                    self._drop("packet type 0x%02x of %d bytes exceeds the %d-byte buffer" % (buf[pos], n, len(buf)))
                    return
                self.skipped += 1
                self.skip = n - (self.have - start)
                pos = self.have
                continue
            if start + n > self.have:
                break
            self._handle(buf[pos], start, n, now_ms)
            pos = start + n
        # keep the unfinished packet at the front
        rest = self.have - pos
        if self.sock is None:
            self.have = 0
        elif pos and rest:
            buf[0:rest] = buf[pos:self.have]
            self.have = rest
        else:
            self.have = rest

    def _handle(self, first, start, n, now_ms):
        buf = self.buf
        kind = first & 0xF0
        if self.state == CONNECTING and kind != 0x20:
            self._drop("protocol error: packet type 0x%02x before the CONNACK" % first)
            return
        if kind == 0x30:
            self._handle_publish(first, start, n, now_ms)
            return
        if kind == 0x20 and n == 2 and self.state == CONNECTING:  # CONNACK
            code = buf[start + 1]
            self.connack_code = code
            if code:
                self._drop("the broker refused the connection: %s" % (
                    CONNACK_TEXT[code] if code < len(CONNACK_TEXT) else "code %d" % code))
                return
            self.session_present = bool(buf[start] & 1)
            self.state = CONNECTED
        elif kind == 0x40 and n == 2:  # PUBACK
            pid = (buf[start] << 8) | buf[start + 1]
            for i in range(len(self.inflight)):
                if self.inflight[i] == pid:
                    self.inflight[i] = 0
                    if self.on_puback is not None:
                        self.on_puback(pid)
                    break
        elif kind == 0x90 and n >= 3:  # SUBACK
            self.suback_codes = list(buf[start + 2:start + n])
        elif first == 0xD0 and n == 0:  # PINGRESP
            self.ping_sent = -1
        else:
            self._drop("protocol error: unexpected packet 0x%02x with %d bytes" % (first, n))

    def _handle_publish(self, first, start, n, now_ms):
        buf = self.buf
        qos = (first >> 1) & 3
        if self.state != CONNECTED or qos > 1 or n < 2:
            self._drop("protocol error: PUBLISH flags 0x%02x, %d bytes" % (first, n))
            return
        tlen = (buf[start] << 8) | buf[start + 1]
        body = start + 2 + tlen + (2 if qos else 0)
        if body > start + n:
            self._drop("malformed PUBLISH: topic length %d in %d bytes" % (tlen, n))
            return
        topic = bytes(buf[start + 2:start + 2 + tlen]).decode()
        payload = bytes(buf[body:start + n])
        if qos:
            p = start + 2 + tlen
            self._send(bytes((0x40, 2, buf[p], buf[p + 1])), now_ms)
        if self.on_message is not None:
            self.on_message(topic, payload)

    def _keepalive(self, now_ms):
        if self.state == CONNECTING:
            if _ticks_diff(now_ms, self.started) >= self.connack_timeout_ms:
                self._drop("no CONNACK within %d ms" % self.connack_timeout_ms)
            return
        if not self.keepalive_ms:
            return
        if self.ping_sent >= 0:
            # the broker answers a PINGREQ at once; half the keepalive is generous
            if _ticks_diff(now_ms, self.ping_sent) >= self.keepalive_ms // 2:
                self._drop("no PINGRESP within %d ms" % (self.keepalive_ms // 2))
            return
        if (_ticks_diff(now_ms, self.last_tx) >= self.keepalive_ms * 3 // 4
                or _ticks_diff(now_ms, self.last_rx) >= self.keepalive_ms):
            if self._send(b"\xc0\x00", now_ms):
                self.ping_sent = now_ms
