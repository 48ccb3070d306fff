# The thin hardware layer: detector inputs, load-switch outputs, the wire's
# serial port and the watchdog, built from a board profile (boards.py).
# Runs on the board. Only this module touches `machine`; on the unix port
# (profile "virtual") the wire is stdin/stdout and there are no pins.
import sys


class VirtualInputs:
    # No loops connected: presence stays 0 (lockstep mode brings it over the wire).
    def __init__(self, cfg):
        self.raw = bytearray(cfg["count"])

    def read(self):
        return self.raw


class GpioInputs:
    def __init__(self, cfg):
        from machine import Pin

        self.pins = [Pin(p, Pin.IN) for p in cfg["pins"]]
        self.invert = 1 if cfg.get("active_low") else 0
        self.raw = bytearray(len(self.pins))

    def read(self):
        for i in range(len(self.pins)):
            self.raw[i] = self.pins[i].value() ^ self.invert
        return self.raw


class ShiftInputs:
    # 74HC165 chain: pulse LOAD low to latch, then clock the bits out.
    def __init__(self, cfg):
        from machine import Pin

        self.load = Pin(cfg["load"], Pin.OUT, value=1)
        self.clock = Pin(cfg["clock"], Pin.OUT, value=0)
        self.data = Pin(cfg["data"], Pin.IN)
        self.invert = 1 if cfg.get("active_low") else 0
        self.raw = bytearray(cfg["count"])

    def read(self):
        self.load.value(0)
        self.load.value(1)
        for i in range(len(self.raw)):
            self.raw[i] = self.data.value() ^ self.invert
            self.clock.value(1)
            self.clock.value(0)
        return self.raw


class VirtualOutputs:
    def __init__(self, cfg):
        self.lamps = bytearray(cfg["channels"])

    def write(self):
        pass


class GpioOutputs:
    # cfg["pins"]: [[red, yellow, green], ...] per channel
    def __init__(self, cfg):
        from machine import Pin

        self.pins = [[Pin(p, Pin.OUT, value=0) for p in ch] for ch in cfg["pins"]]
        self.lamps = bytearray(len(self.pins))

    def write(self):
        for k in range(len(self.pins)):
            bits = self.lamps[k]
            ch = self.pins[k]
            ch[0].value(bits & 1)
            ch[1].value((bits >> 1) & 1)
            ch[2].value((bits >> 2) & 1)


class ShiftOutputs:
    # 74HC595 chain, 3 bits per channel (red, yellow, green), last channel
    # shifted first; the latch makes all lamps change at once.
    def __init__(self, cfg):
        from machine import Pin

        self.data = Pin(cfg["data"], Pin.OUT, value=0)
        self.clock = Pin(cfg["clock"], Pin.OUT, value=0)
        self.latch = Pin(cfg["latch"], Pin.OUT, value=0)
        self.lamps = bytearray(cfg["channels"])
        self.write()
        if cfg.get("enable") is not None:
            Pin(cfg["enable"], Pin.OUT, value=0)  # /OE low only once the lamps are defined

    def write(self):
        for k in range(len(self.lamps) - 1, -1, -1):
            bits = self.lamps[k]
            for b in (4, 2, 1):
                self.data.value(1 if bits & b else 0)
                self.clock.value(1)
                self.clock.value(0)
        self.latch.value(1)
        self.latch.value(0)


_INPUTS = {"virtual": VirtualInputs, "gpio": GpioInputs, "shift_in": ShiftInputs}
_OUTPUTS = {"virtual": VirtualOutputs, "gpio": GpioOutputs, "shift_out": ShiftOutputs}


def make_inputs(profile):
    return _INPUTS[profile["detectors"]["driver"]](profile["detectors"])


def make_outputs(profile):
    return _OUTPUTS[profile["outputs"]["driver"]](profile["outputs"])


class StdioPort:
    # The unix port's wire: stdin/stdout, raw bytes; the console is stderr.
    def __init__(self):
        import select

        self.rx = sys.stdin.buffer
        self.tx = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(self.rx, select.POLLIN)
        self.one = bytearray(1)
        self.hup = select.POLLHUP | select.POLLERR
        self.closed = False

    def read_into(self, buf, timeout_ms):
        # Wait up to timeout_ms for input; return the bytes read (0 = none).
        n = 0
        wait = timeout_ms
        while n < len(buf):
            ready = self.poller.poll(wait)
            if not ready:
                break
            if ready[0][1] & self.hup and not ready[0][1] & 1:
                self.closed = True
                break
            # the unix port's stdin buffer has readinto; the boards' stubs,
            # checked by scripts/board_typecheck.py, type it without (no board runs this class)
            if self.rx.readinto(self.one) != 1:  # pyright: ignore[reportAttributeAccessIssue]
                self.closed = True  # end of input: the host went away
                break
            buf[n] = self.one[0]
            n += 1
            wait = 0
        return n

    def write(self, buf, n):
        self.tx.write(memoryview(buf)[:n])
        self.tx.flush()


class UartPort:
    def __init__(self, cfg):
        from machine import UART, Pin

        self.uart = UART(cfg["id"], baudrate=cfg["baudrate"], tx=Pin(cfg["tx"]), rx=Pin(cfg["rx"]), rxbuf=1024)
        self.closed = False

    def read_into(self, buf, timeout_ms):
        import time

        t0 = time.ticks_ms()
        while not self.uart.any():
            if time.ticks_diff(time.ticks_ms(), t0) >= timeout_ms:
                return 0
            time.sleep_ms(1)
        return self.uart.readinto(buf, min(len(buf), self.uart.any())) or 0

    def write(self, buf, n):
        self.uart.write(memoryview(buf)[:n])


def make_port(profile):
    return StdioPort() if profile["uart"] is None else UartPort(profile["uart"])


class Watchdog:
    # machine.WDT where the port has one; a no-op on the unix port.
    def __init__(self, timeout_ms):
        self.wdt = None
        if timeout_ms:
            try:
                from machine import WDT

                self.wdt = WDT(timeout=timeout_ms)
            except (ImportError, AttributeError):
                print("watchdog: machine.WDT not available on this port", file=sys.stderr)

    def feed(self):
        if self.wdt is not None:
            self.wdt.feed()


def console(msg):
    # Human-readable messages: stderr on the unix port, the REPL on a board.
    print("ampelwerk-fw: " + msg, file=sys.stderr)
