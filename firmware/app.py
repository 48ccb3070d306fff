# The firmware main loops. Runs on the board (and on the unix port as the
# virtual board). Lockstep mode: each TICK frame from the wire brings the
# elapsed ms and the presence bits, the reply carries the states and events
# (the bench and SUMO in the loop); once ticks have come, a host that sends
# no valid frame for host_timeout_ms (board profile, or --host-timeout-ms;
# 0 = never) sends the board to flash until the bench resets it: lamps must
# not freeze on a green because the host died, nor because a dead host's line
# picks up noise. Free-running mode: the board's own clock
# (time.ticks_ms / ticks_diff) and its debounced pins drive the core, and
# every tick's states and events go out as STATE_REPORT frames. Both write
# the load-switch outputs once per tick, feed the watchdog, and drive the
# outputs to flash on any exception (the fault path), then keep serving.
# With network settings on flash (network.json, firmware/network_settings.py)
# both loops also poll the coordination link once per pass, between ticks
# (firmware/coordination_link.py): it never waits for the broker.
# Free running, the local time of the board's clock (firmware/local_clock.py)
# goes to the core's time-of-day program when a controller starts and hourly.
import time

from controller.timing import MAX_STEP_MS
from firmware.board_io import Watchdog, console, make_inputs, make_outputs, make_port
from firmware.boards import PROFILES
from firmware.debounce import Debouncer
from firmware.lamps import fill_lamps
from firmware.station import Station
from firmware.wire_server import WireServer


class Board:
    def __init__(self, profile_name, folder, lockstep, host_timeout_ms=None):
        if profile_name not in PROFILES:
            raise ValueError("board profile %r unknown (known: %s)" % (profile_name, ", ".join(sorted(PROFILES))))
        profile = PROFILES[profile_name]
        self.profile = profile
        # outputs first, so the lamps are defined before anything else can fail
        self.outputs = make_outputs(profile)
        self.watchdog = Watchdog(profile["watchdog_ms"])
        self.port = make_port(profile)
        self.inputs = make_inputs(profile)
        self.station = Station(profile, folder)
        self.server = WireServer(self.station, self.port, profile_name, lockstep)
        self.lockstep = lockstep
        self.host_timeout_ms = profile.get("host_timeout_ms", 10000) if host_timeout_ms is None else int(host_timeout_ms)
        self.rx = bytearray(64)
        self.link = self.make_link(folder)
        self.ntp_tried = False
        self.write_outputs()

    def make_link(self, folder):
        # The network link, when network.json is on flash and valid; a board
        # without it (or with bad settings) runs its signals all the same.
        from firmware import network_settings

        try:
            settings = network_settings.load(folder)
        except network_settings.SettingsError as e:
            console("NETWORK OFF: " + "; ".join(e.errors))
            return None
        if settings is None:
            return None
        from firmware.coordination_link import CoordinationLink

        console("network: broker %s:%d%s, report every %d ms" % (
            settings["host"], settings["port"], " (TLS)" if settings["tls"] else "", settings["report_period_ms"]))
        return CoordinationLink(settings, console)

    def poll_link(self, now):
        # Once per loop pass, between ticks. Wall clock for reports and plan
        # validity: the board's RTC, Unix epoch ms (nothing in the firmware
        # sets it: the board's own boot code or a host must, docs/firmware.md).
        link = self.link
        if link.ctl is not self.station.ctl:
            link.attach(self.station.ctl, now)
        try:
            wall = time.time_ns() // 1000000
        except AttributeError:  # a port without time_ns: whole seconds
            wall = int(time.time()) * 1000
        link.poll(now, wall)
        if link.up and not self.ntp_tried:
            # the network is up: the RTC from NTP where the port has ntptime (once per boot)
            self.ntp_tried = True
            self.station.clock.sync_ntp()

    def write_outputs(self):
        st = self.station
        fill_lamps(self.outputs.lamps, st.outputs, st.pedestrian, st.blink_on())
        self.outputs.write()

    def fault(self, e):
        # The fault path: whatever broke, the heads flash and we say why.
        self.station.fail("exception in the main loop: %r" % (e,))
        try:
            self.write_outputs()
            self.server.report_fault(0, 0, self.station.reason)
        except Exception as again:
            console("fault path failed too: %r" % (again,))
        time.sleep_ms(100)  # a fault that repeats must not spin the loop

    def run(self):
        console("board up: %s mode" % ("lockstep" if self.lockstep else "free-running"))
        while not self.port.closed:
            try:
                if self.lockstep:
                    self.serve_lockstep()
                else:
                    self.serve_free_running()
            except Exception as e:
                self.fault(e)
        console("wire closed, stopping")

    def serve_lockstep(self):
        srv = self.server
        st = self.station
        last_heard = blink_at = 0
        armed = False  # a host has ticked since boot or the last reset
        while not self.port.closed:
            self.watchdog.feed()
            n = self.port.read_into(self.rx, 50)
            now = time.ticks_ms()
            # Silence is judged before this read's bytes are credited: a frame
            # that comes after the timeout finds the board already flashing,
            # however late the loop got to run.
            if armed and self.host_timeout_ms and time.ticks_diff(now, last_heard) >= self.host_timeout_ms:
                if st.ctl is not None:
                    st.fail("no valid frame from the host for %d ms: flashing until reset" % time.ticks_diff(now, last_heard))
                    srv.report_fault(0, 0, st.reason)
                    blink_at = now
                # while the host is away the heads blink on the board's own clock
                st.tick(time.ticks_diff(now, blink_at), None)
                blink_at = now
                self.write_outputs()
            if n:
                srv.feed(self.rx, n)
                if srv.heard:
                    # only a valid frame (COBS, length, CRC, version) shows the
                    # host is there: line noise and bad frames never do
                    srv.heard = False
                    last_heard = now
                if srv.ticked:
                    srv.ticked = False
                    armed = st.ctl is not None
                    self.write_outputs()
            if self.link is not None:
                self.poll_link(now)

    def serve_free_running(self):
        st = self.station
        srv = self.server
        tick_ms = self.profile["tick_ms"]
        deb = Debouncer(len(self.inputs.raw), self.profile["debounce_ms"])
        last = time.ticks_ms()
        while not self.port.closed:
            self.watchdog.feed()
            now = time.ticks_ms()
            e = time.ticks_diff(now, last)
            if e >= tick_ms:
                last = now
                if e > MAX_STEP_MS:
                    e = MAX_STEP_MS  # a stalled loop must not make timers jump
                flashing = st.ctl is not None and st.ctl.flashing
                st.clock.hand_in(st.ctl, e)  # the RTC's local time: a new controller at once, then hourly
                st.tick(e, deb.update(e, self.inputs.read()))
                self.write_outputs()
                srv.report_state()
                if st.ctl is not None and st.ctl.flashing and not flashing:
                    srv.report_fault(st.ctl.monitor.fault, st.ctl.monitor.fault_group, "conflict monitor latched flash")
                e = 0
            if self.link is not None:
                self.poll_link(now)
                e = time.ticks_diff(time.ticks_ms(), last)
                if e > tick_ms:
                    e = tick_ms  # the link took a while: look at the wire, tick at once
            n = self.port.read_into(self.rx, tick_ms - e)
            if n:
                srv.feed(self.rx, n)
