"""A SUMO net file checked before SUMO or sumolib reads it. Host only.

Two ways a net breaks, found by trying them: a file cut short (a copy that
stopped, a full disk) makes sumolib raise a SAX parse error and SUMO stop
with "Process Error"; a ``<net>`` without its ``version`` attribute makes
sumolib raise KeyError and SUMO 1.28 (and netconvert) die of a segmentation
fault without a word, taking an in-process (libsumo) run down with them.
``check_net`` reads the file once with expat (gzip too, as SUMO does) and
raises NetFileError saying what is wrong and what to do.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.parsers import expat

from sim.scenarios import ScenarioError

_CHUNK_BYTES = 1 << 20


class NetFileError(ScenarioError):
    """A net file SUMO cannot use; the message names the file, the problem and the fix."""


def check_net(path: Path) -> None:
    """Raise NetFileError unless ``path`` is a whole XML file whose root is ``<net version=...>``."""
    path = Path(path)
    if not path.is_file():
        raise NetFileError("net file %s not found (or not a file): check the net-file of the .sumocfg" % path)
    root: dict[str, object] = {}
    parser = expat.ParserCreate()

    def first_element(name: str, attrs: dict[str, str]) -> None:
        root["name"], root["attrs"] = name, attrs
        parser.StartElementHandler = None  # the rest is only checked for being whole

    parser.StartElementHandler = first_element
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            while True:
                chunk = f.read(_CHUNK_BYTES)
                if not chunk:
                    break
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as e:
        raise NetFileError("net file %s is not whole XML (line %d, column %d: %s): it may have been cut short; copy it "
                           "again or build it again with netconvert" % (path, e.lineno, e.offset + 1,
                                                                        expat.errors.messages[e.code])) from None
    except (OSError, EOFError) as e:  # unreadable, or a .gz cut short
        raise NetFileError("cannot read net file %s: %s" % (path, e)) from None
    if root.get("name") != "net":
        raise NetFileError("%s is not a SUMO net: its root element is <%s>, expected <net>" % (path, root.get("name")))
    if not root["attrs"].get("version"):  # type: ignore[union-attr]
        raise NetFileError("net file %s has no version attribute on <net>: SUMO crashes on such a net (segmentation "
                           "fault) and sumolib cannot read it; build it again with netconvert, or add the version of "
                           "the SUMO that wrote it, e.g. <net version=\"1.20\" ...>" % path)
