# The board's end of the serial wire: decodes request frames, checks their
# sequence, runs them against the station and sends the replies. Runs on the
# board. Bad frames are counted and answered with ERROR; they never reach the
# station, so they never change a signal. A repeated seq (the host retrying
# after a lost reply) gets the cached reply again without stepping twice.
# The tick path builds its reply in preallocated buffers.
from controller.wire import frame as wf
from controller.wire import messages as wm
from controller.compat import SMALL_INT_MAX, const
from controller.wire.frame import HEADER_LEN, MAX_ENCODED, MAX_PACKET, PROTOCOL_VERSION

_MAX_CONFIG_BYTES = const(65536)


class WireServer:
    def __init__(self, station, port, board_name, lockstep):
        self.station = station
        self.port = port
        self.board_name = board_name
        self.lockstep = lockstep
        self.dec = wf.FrameDecoder()
        self.pkt = bytearray(MAX_PACKET)
        self.reply = bytearray(MAX_ENCODED)  # the last reply, encoded, for repeats
        self.reply_len = 0
        self.other = bytearray(MAX_ENCODED)  # errors and unsolicited frames
        self.presence = bytearray(256)
        self.last_seq = -1  # -1: any seq is accepted next (before the first hello)
        self.bench = False  # hello asked for the test hooks and the board has them
        self.report_seq = 0
        self.ticked = False  # set when a TICK stepped the station
        self.heard = False  # set when a valid frame came in (the host is there); line noise never sets it
        self.up_buf = None
        self.up_total = 0
        self.up_crc = 0
        self.up_next = 0
        self.out_of_order = 0
        self.unknown_type = 0
        self.bad_payload = 0
        self.tx_frames = 0

    # ---- receiving ----
    def feed(self, buf, n):
        for i in range(n):
            r = self.dec.feed_byte(buf[i])
            if r == 1:
                self.heard = True
                self._request()
            elif r < 0:
                self._error(self.dec.last_seq, self.dec.last_error, "", False)

    def _request(self):
        d = self.dec
        t = d.type
        seq = d.seq
        if t == wm.HELLO:
            self.last_seq = -1
        elif seq == self.last_seq and self.reply_len:
            self._send(self.reply, self.reply_len)  # a retry: same answer, no second step
            return
        elif self.last_seq >= 0 and seq != ((self.last_seq + 1) & 0xFF):
            self.out_of_order += 1
            self._error(seq, wm.ERR_OUT_OF_ORDER, "expected seq %d" % ((self.last_seq + 1) & 0xFF), False)
            return
        self.last_seq = seq
        p = d.buf
        at = d.payload_at
        n = d.length
        if t == wm.TICK:
            self._tick(seq, p, at, n)
        elif t == wm.HELLO:
            self._hello(seq, p, at, n)
        elif t == wm.CONFIG:
            self._config(seq, p, at, n)
        elif t == wm.STATUS:
            self._status(seq)
        elif t == wm.EVENTS:
            self._events(seq, p[at] if n else wm.MAX_EVENTS_PER_REPLY)
        elif t == wm.RESET:
            self._reset(seq, p, at, n)
        elif t == wm.SET_TIME:
            self._set_time(seq, p, at, n)
        elif t == wm.PRIORITY:
            self._priority(seq, p, at, n)
        elif t == wm.TEST_INJECT:
            self._inject(seq, p, at, n)
        else:
            self.unknown_type += 1
            self._error(seq, wm.ERR_UNKNOWN_TYPE, "type 0x%02x" % t)

    # ---- requests ----
    def _tick(self, seq, p, at, n):
        st = self.station
        if not self.lockstep:
            return self._error(seq, wm.ERR_NOT_ALLOWED, "free-running mode: the board reads its own pins")
        if n < 3:
            return self._bad_payload(seq, "tick needs at least 3 bytes, got %d" % n)
        nd = p[at + 2]
        if st.ctl is not None and nd != st.n_detectors:
            return self._bad_payload(seq, "tick has %d detectors, the config has %d" % (nd, st.n_detectors))
        if n != 3 + ((nd + 7) >> 3):
            return self._bad_payload(seq, "tick for %d detectors must be %d bytes, got %d" % (nd, 3 + ((nd + 7) >> 3), n))
        wm.unpack_presence(p, at + 3, self.presence, nd)
        st.tick(wm.get_u16(p, at), self.presence)
        self.ticked = True
        self._state_reply(wm.TICK_REPLY, seq, True)

    def _state_reply(self, ptype, seq, cache):
        # TICK_REPLY / STATE_REPORT: ticks u32, flags, mode, n, states, n_events, events
        st = self.station
        ctl = st.ctl
        b = self.pkt
        o = HEADER_LEN
        out = st.outputs
        ng = len(out)
        flags = 0
        if ctl is None:
            flags = wm.TICK_FLASHING | wm.TICK_NO_CONFIG
            wm.put_u32(b, o, 0)
            b[o + 5] = 255
        else:
            if ctl.flashing:
                flags = wm.TICK_FLASHING
            wm.put_u32(b, o, ctl.ticks)
            b[o + 5] = ctl.kernel.mode
        b[o + 6] = ng
        for g in range(ng):
            b[o + 7 + g] = out[g]
        ne = 0
        if ctl is not None:
            ne = wm.put_events(b, o + 8 + ng, ctl.events, wm.MAX_EVENTS_PER_REPLY)
            if ctl.events.size:
                flags |= wm.TICK_EVENTS_PENDING
        if st.pending is not None:
            flags |= wm.TICK_SWITCH_PENDING
        b[o + 4] = flags
        b[o + 7 + ng] = ne
        self._reply(ptype, seq, 8 + ng + ne * wm.EVENT_SIZE, cache)

    def _hello(self, seq, p, at, n):
        if n < 1 or p[at] != PROTOCOL_VERSION:
            return self._error(seq, wf.BAD_VERSION, "this board speaks protocol %d" % PROTOCOL_VERSION)
        st = self.station
        self.bench = n >= 2 and bool(p[at + 1] & wm.HELLO_BENCH) and st.profile["test_hooks"]
        b = self.pkt
        o = HEADER_LEN
        b[o] = PROTOCOL_VERSION
        b[o + 1] = (wm.BOARD_CONFIG_LOADED if st.ctl is not None else 0) | (wm.BOARD_TEST_HOOKS if self.bench else 0)
        wm.put_u16(b, o + 2, wf.MAX_PAYLOAD)
        b[o + 4] = len(st.outputs)
        b[o + 5] = st.n_detectors
        wm.put_u32(b, o + 6, st.config_crc)
        k = self._text(o + 10, "board=%s config=%s" % (self.board_name, st.config_id))
        self._reply(wm.HELLO_REPLY, seq, 10 + k, True)

    def _config(self, seq, p, at, n):
        if n < 12:
            return self._bad_payload(seq, "config chunk needs 12 header bytes, got %d" % n)
        off = wm.get_u32(p, at)
        total = wm.get_u32(p, at + 4)
        crc = wm.get_u32(p, at + 8)
        k = n - 12
        if off == 0:
            if total == 0 or total > _MAX_CONFIG_BYTES:
                return self._bad_payload(seq, "config size %d bytes is outside 1 to %d" % (total, _MAX_CONFIG_BYTES))
            self.up_buf = None
            self.up_buf = bytearray(total)
            self.up_total = total
            self.up_crc = crc
            self.up_next = 0
        if self.up_buf is None or off != self.up_next or total != self.up_total or crc != self.up_crc or off + k > total:
            self.up_buf = None
            return self._error(seq, wm.ERR_CONFIG_ORDER, "chunk at %d of %d does not continue the upload (next %d): start again at 0" % (
                off, total, self.up_next))
        self.up_buf[off:off + k] = p[at + 12:at + 12 + k]
        self.up_next = off + k
        status = 0
        if self.up_next == total:
            data = self.up_buf
            self.up_buf = None
            if wf.crc32(data) != crc:
                self.station.rejected += 1
                return self._error(seq, wm.ERR_CONFIG_CRC, "image crc32 differs from 0x%08x: old config kept" % crc)
            err = self.station.apply_upload(data)
            if err:
                return self._error(seq, wm.ERR_CONFIG_INVALID, err)
            # 1: running the new config; 2: it runs once the old program has ended safely (tick on)
            status = 2 if self.station.pending is not None else 1
        b = self.pkt
        b[HEADER_LEN] = status
        wm.put_u32(b, HEADER_LEN + 1, self.up_next)
        k = self._put_states(HEADER_LEN + 5) if status else 0
        self._reply(wm.CONFIG_ACK, seq, 5 + k, True)

    def _status(self, seq):
        st = self.station
        ctl = st.ctl
        d = self.dec
        b = self.pkt
        o = HEADER_LEN
        b[o] = ctl.kernel.mode if ctl else 255
        b[o + 1] = 1 if (ctl is None or ctl.flashing) else 0
        b[o + 2] = ctl.monitor.fault if ctl else 0
        b[o + 3] = ctl.monitor.fault_group if ctl else 0
        b[o + 4] = 1 if ctl is None else 0
        values = (ctl.ticks if ctl else 0, d.ok, d.bad, d.bad_cobs, d.bad_length, d.bad_crc, d.oversized,
                  d.bad_version, self.out_of_order, self.unknown_type, self.bad_payload, self.tx_frames,
                  ctl.events.dropped if ctl else 0, ctl.bad_steps if ctl else 0, st.internal_errors,
                  st.uploads, st.rejected)
        o += 5
        for v in values:
            wm.put_u32(b, o, v)
            o += 4
        k = self._text(o, st.config_id + "\n" + st.reason)
        self._reply(wm.STATUS_REPLY, seq, o - HEADER_LEN + k, True)

    def _events(self, seq, most):
        ctl = self.station.ctl
        b = self.pkt
        o = HEADER_LEN
        k = 0
        if most > wm.MAX_EVENTS_PER_REPLY:
            most = wm.MAX_EVENTS_PER_REPLY
        if ctl is not None:
            k = wm.put_events(b, o + 3, ctl.events, most)
        wm.put_u16(b, o, ctl.events.size if ctl else 0)
        b[o + 2] = k
        self._reply(wm.EVENTS_REPLY, seq, 3 + k * wm.EVENT_SIZE, True)

    def _reset(self, seq, p, at, n):
        kind = p[at] if n else 255
        st = self.station
        if kind == wm.RESET_POWER_CYCLE:
            st.request_boot()  # after the safe ending of a running program
        elif kind == wm.RESET_CLEAR_FAULT and st.ctl is not None:
            st.ctl.reset()
        else:
            return self._bad_payload(seq, "reset kind %d: 0 clears a latched fault (needs a config), 1 power-cycles" % kind)
        self.pkt[HEADER_LEN] = kind
        k = 1 + self._put_states(HEADER_LEN + 1)
        # then 1 while the power cycle waits for the running program's safe ending (tick on), else 0
        self.pkt[HEADER_LEN + k] = 1 if st.pending is not None else 0
        self._reply(wm.RESET_ACK, seq, k + 1, True)

    def _set_time(self, seq, p, at, n):
        # The local time (date YYYYMMDD u32, ms of the day u32): the board's
        # clock, and the running controller's time-of-day program at once.
        if n != 8:
            return self._bad_payload(seq, "set time needs 8 bytes (date u32, ms_of_day u32), got %d" % n)
        date = wm.get_u32(p, at)
        ms = wm.get_u32(p, at + 4)
        st = self.station
        try:
            flags = wm.SET_TIME_RTC if st.clock.set(date, ms) else 0
            if st.ctl is not None:
                from controller.local_calendar import weekday_of

                if st.ctl.set_local_time(date, weekday_of(date), ms):
                    flags |= wm.SET_TIME_CORE
        except ValueError as e:
            return self._bad_payload(seq, str(e))
        self.pkt[HEADER_LEN] = flags
        self._reply(wm.SET_TIME_ACK, seq, 1, True)

    def _priority(self, seq, p, at, n):
        # a preemption / transit priority request (controller/priority/): one more or one less
        ctl = self.station.ctl
        if ctl is None:
            return self._error(seq, wm.ERR_NOT_ALLOWED, "priority requests need a running config")
        prio = ctl.priority
        if n != 2 or p[at + 1] > 1:
            return self._bad_payload(seq, "priority needs 2 bytes: class u8, on u8 (0 or 1)")
        c = p[at] - 1
        if prio is None or not prio.request(c, p[at + 1]):
            return self._bad_payload(seq, "priority class %d is not in the config (%d classes)" % (
                p[at], prio.classes.n if prio is not None else 0))
        self.pkt[HEADER_LEN] = p[at]
        self.pkt[HEADER_LEN + 1] = prio.requests.count[c]
        self._reply(wm.PRIORITY_ACK, seq, 2, True)

    def _inject(self, seq, p, at, n):
        st = self.station
        if not self.bench:
            return self._error(seq, wm.ERR_NOT_ALLOWED, "test hooks need a bench session on a board that has them")
        if st.ctl is None or n < 1 or p[at] != len(st.outputs) or n != 1 + p[at]:
            return self._bad_payload(seq, "inject needs a running config and one state per signal group")
        st.inject = bytes(p[at + 1:at + 1 + p[at]])
        self.pkt[HEADER_LEN] = p[at]
        self._reply(wm.TEST_INJECT_ACK, seq, 1, True)

    # ---- unsolicited (free-running mode) ----
    def report_state(self):
        self.report_seq = (self.report_seq + 1) & 0xFF
        self._state_reply(wm.STATE_REPORT, self.report_seq, False)

    def report_fault(self, fault, group, text):
        b = self.pkt
        b[HEADER_LEN] = fault
        b[HEADER_LEN + 1] = group
        k = self._text(HEADER_LEN + 2, text)
        self._reply(wm.FAULT, 0, 2 + k, False)

    # ---- sending ----
    def _put_states(self, at):
        # n u8 + the states shown now (after a restart: before the first tick)
        out = self.station.outputs
        self.pkt[at] = len(out)
        for g in range(len(out)):
            self.pkt[at + 1 + g] = out[g]
        return 1 + len(out)

    def _text(self, at, text):
        raw = text.encode()
        k = len(raw)
        if at + k > HEADER_LEN + wf.MAX_PAYLOAD:
            k = HEADER_LEN + wf.MAX_PAYLOAD - at
        self.pkt[at:at + k] = raw[:k]
        return k

    def _bad_payload(self, seq, text):
        self.bad_payload += 1
        self._error(seq, wm.ERR_BAD_PAYLOAD, text)

    def _error(self, seq, code, text, cache=True):
        # cache=False for frames that were not accepted (they keep the last
        # good reply for a retry)
        self.pkt[HEADER_LEN] = code
        k = self._text(HEADER_LEN + 1, text)
        self._reply(wm.ERROR, seq, 1 + k, cache)

    def _reply(self, ptype, seq, length, cache):
        size = wf.build_packet(self.pkt, ptype, seq, length)
        buf = self.reply if cache else self.other
        k = wf.cobs_encode(self.pkt, size, buf)
        if cache:
            self.reply_len = k
        self._send(buf, k)

    def _send(self, buf, k):
        if self.tx_frames < SMALL_INT_MAX:
            self.tx_frames += 1
        self.port.write(buf, k)
