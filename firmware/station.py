# The station: one intersection controller on a board and its life cycle.
# Runs on the board. It boots from the config on flash (missing or invalid:
# flash only, reason on the console, never half-working), steps the core,
# applies a new config only when it is whole and valid, rebuilds the core on a
# power cycle, and on any exception drives the outputs to flash and stays
# there until the next power cycle. A new config or a power cycle asked for
# while the controller runs waits for its safe ending (every green ends with
# its min green, clearance and red clearance; docs/core.md rule 7): the
# switch happens in the tick that finds the heads all red. Units: ms.
from controller.safety.signal_states import FLASH_YELLOW, write_flash
from firmware import config_store
from firmware.board_io import console
from firmware.boards import channel_count, check_fits
from firmware.local_clock import LocalClock

_BOOT = "boot"  # pending: a power cycle (else a validated config to run)


class Station:
    def __init__(self, profile, folder):
        self.profile = profile
        self.folder = folder
        n = channel_count(profile)
        # without a config every channel is a vehicle head flashing yellow
        self.no_config_outputs = bytearray([FLASH_YELLOW] * n)
        self.no_config_pedestrian = bytearray(n)
        self.ctl = None
        self.fault_outputs = self.no_config_outputs
        self.outputs = self.no_config_outputs
        self.pedestrian = self.no_config_pedestrian
        self.n_detectors = 0
        self.config_id = ""
        self.config_crc = 0
        self.reason = ""  # why the board flashes without a running controller
        self.time_ms = 0  # 0..999, for the 1 Hz flash blink
        self.internal_errors = 0
        self.uploads = 0
        self.rejected = 0
        self.inject = None  # bench test hook: states forced for the next tick
        self.pending = None  # waits for the safe ending: _BOOT, or a validated (Intersection, crc) to run
        self.clock = LocalClock()  # the local time for a time-of-day program (RTC, or set over the wire)
        self.boot()

    def request_boot(self):
        # A power cycle asked for over the wire: at once when no controller
        # runs, else after its safe ending. True when it happened at once.
        return self._switch(_BOOT)

    def _switch(self, what):
        ctl = self.ctl
        if ctl is None or ctl.end():
            self.pending = None
            if what is _BOOT:
                self.boot()
            else:
                self._start(what[0], what[1])
            return True
        self.pending = what
        console("switch waits for the safe ending of the running program")
        return False

    def boot(self):
        # Power up: the core from the config on flash, starting with its
        # startup sequence (flash, all red, first stage).
        self.inject = None
        self.pending = None
        try:
            text = config_store.read_config(self.folder)
        except OSError:
            self._no_config("no config on flash (%s): upload one" % config_store.config_path(self.folder))
            return
        except ValueError as e:  # not UTF-8
            self._no_config("invalid config: %s" % e)
            return
        ix, crc, err = self._load(text)
        if err:
            self._no_config(err)
        else:
            self._start(ix, crc)

    def _no_config(self, reason):
        self.ctl = None
        self.outputs = self.fault_outputs = self.no_config_outputs
        self.pedestrian = self.no_config_pedestrian
        self.n_detectors = 0
        self.config_id = ""
        self.config_crc = 0
        self.reason = reason
        console("FLASH: " + reason)

    def _load(self, text):
        # Validate config text: (Intersection, crc32, '') or (None, 0, why not).
        # The running controller stays as it is either way.
        from controller.wire.frame import crc32

        crc = crc32(text if isinstance(text, (bytes, bytearray)) else text.encode())
        try:
            from controller.config import loading as config

            ix = config.load_text(text, "config.json")
        except Exception as e:  # ConfigError (lists every problem), or no memory for it
            lines = getattr(e, "errors", [repr(e)])
            return None, 0, "invalid config: " + "; ".join(lines)
        finally:
            from controller.config.loading import unload

            unload()  # the parser and validator go back to the heap
        why = check_fits(self.profile, ix)
        if why:
            return None, 0, why
        return ix, crc, ""

    def _start(self, ix, crc):
        # Run a validated config: a new controller, from its startup sequence.
        from controller.core import Controller

        from firmware.lamps import pedestrian_lamps

        ctl = Controller(ix, event_capacity=512)
        self.pedestrian = pedestrian_lamps(ix)  # per group: 0 vehicle, else its clearance display
        ix.raw = None  # the monitor has built its tables; drop the dict
        fault = bytearray(ix.n_groups)
        write_flash(fault, ix.is_pedestrian, ix.flash_red)
        self.ctl = ctl
        self.outputs = ctl.outputs
        self.fault_outputs = fault
        self.n_detectors = ix.n_detectors
        self.config_id = ix.id
        self.config_crc = crc
        self.reason = ""
        self.time_ms = 0
        console("running config %s (%d signal groups, %d detectors)" % (ix.id, ix.n_groups, ix.n_detectors))

    def apply_upload(self, data):
        # A whole uploaded image: validate, store, then swap (at once, or once
        # the running program has ended safely: see `pending`). '' or why not.
        try:
            text = bytes(data).decode()
        except UnicodeError:
            text = None
        ix, crc, err = self._load(text) if text is not None else (None, 0, "config is not UTF-8 text")
        if err:
            self.rejected += 1
            console("upload rejected, old config kept: " + err)
            return err
        config_store.write_config(self.folder, data)
        self.uploads += 1
        self._switch((ix, crc))
        return ""

    def tick(self, elapsed_ms, presence):
        # One step of the core; any exception ends in flash.
        t = self.time_ms + elapsed_ms
        while t >= 1000:
            t -= 1000
        self.time_ms = t
        self.clock.advance(elapsed_ms)
        ctl = self.ctl
        if ctl is None:
            return self.outputs
        try:
            if self.inject is not None:
                self._install_inject()
            ctl.step(elapsed_ms, presence)
            if self.pending is not None and ctl.ended:
                self._switch(self.pending)
        except Exception as e:
            self.fail("exception in the tick: %r" % (e,))
        return self.outputs

    def fail(self, reason):
        # The fault path: outputs to flash, the core stopped, reason kept.
        self.internal_errors += 1
        self.ctl = None
        self.pending = None
        self.outputs = self.fault_outputs
        self.reason = reason
        console("FAULT, flashing: " + reason)

    def blink_on(self):
        return self.time_ms < 500

    def _install_inject(self):
        # Test hook (bench sessions on the virtual board only, see
        # docs/hil.md): the forced states replace the kernel's outputs for one
        # tick, after the kernel and before the conflict monitor, so the real
        # monitor has to catch them.
        k = self.ctl.kernel
        pattern = self.inject
        self.inject = None
        plain_apply = k.apply

        def forced_apply(calls):
            plain_apply(calls)
            # pattern is the states the wire server put in self.inject, never
            # None here; a type checker sees only this class's `inject = None`
            for g in range(len(pattern)):  # pyright: ignore[reportArgumentType]
                k.outputs[g] = pattern[g]
            del k.apply  # one tick only: the class's apply is back

        k.apply = forced_apply
