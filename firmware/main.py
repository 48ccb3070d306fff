# Firmware entry point. Runs on the board (copied to the flash root as
# main.py) and on the unix port:
#   micropython firmware/main.py [--flash DIR] [--mode lockstep|free] [--profile NAME] [--host-timeout-ms N]
# On a board the options come from board.json on flash, if present:
#   {"profile": "rp2040-pico", "mode": "free"}; defaults follow sys.platform.
import sys


def _options():
    opts = {"flash": "", "mode": "free", "profile": {"rp2": "rp2040-pico", "esp32": "esp32"}.get(sys.platform, "virtual")}
    if sys.platform == "linux":
        opts["mode"] = "lockstep"
        args = sys.argv[1:]
        for i in range(0, len(args) - 1, 2):
            opts[args[i].lstrip("-")] = args[i + 1]
        return opts
    try:
        import json

        with open("board.json") as f:
            opts.update(json.load(f))
    except (OSError, ValueError):
        pass
    return opts


def main():
    if sys.platform == "linux":
        import os

        here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
        try:
            os.stat(here + "/firmware")  # a bundle: main.py sits next to firmware/
        except OSError:  # the repo: main.py is in firmware/, the packages one up
            if "/" in here:
                sys.path.insert(0, here.rsplit("/", 1)[0])
            else:
                sys.path.insert(0, ".." if here == "." else ".")
    from firmware.app import Board

    opts = _options()
    Board(opts["profile"], opts["flash"], opts["mode"] == "lockstep", opts.get("host-timeout-ms")).run()


main()
