# The board's network settings on flash (network.json next to config.json):
# where the MQTT broker is, how to log in, the controller's plan key and the
# report period. Runs on the board, once at boot. check() reports every
# problem, each naming the field, the value and what is allowed; a board
# without valid settings runs its signals without the network link.
# Fields (docs/firmware.md):
#   host (text), port (1..65535; default 1883, 8883 with tls), tls (bool),
#   ca_file (PEM or DER certificate on flash, required with tls; a relative
#   path is taken from the flash folder), username (optional: must be the
#   config's controller id), password (text), plan_key (64 hex digits),
#   report_period_ms, keepalive_s, timeout_ms, reconnect_min_ms,
#   reconnect_max_ms, prefix (topic prefix, default "ampelwerk").
import json

FILE_NAME = "network.json"

# name: (low, high, default, unit) for the integer fields
_INTS = {
    "port": (1, 65535, None, ""),
    "report_period_ms": (500, 3600000, 60000, " ms"),
    "keepalive_s": (5, 3600, 60, " s"),
    # connect, TLS handshake and writes may block this long: well below the 2 s watchdog
    "timeout_ms": (50, 1500, 500, " ms"),
    "reconnect_min_ms": (100, 600000, 1000, " ms"),
    "reconnect_max_ms": (100, 3600000, 60000, " ms"),
}
_TEXTS = ("host", "password", "username", "prefix", "ca_file")
_KNOWN = ("host", "port", "tls", "ca_file", "username", "password", "plan_key", "report_period_ms",
          "keepalive_s", "timeout_ms", "reconnect_min_ms", "reconnect_max_ms", "prefix")


class SettingsError(ValueError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(errors))


def settings_path(folder):
    return FILE_NAME if folder in ("", ".") else folder.rstrip("/") + "/" + FILE_NAME


def load(folder):
    # The checked settings, None when there is no network.json, or SettingsError.
    try:
        with open(settings_path(folder)) as f:
            text = f.read()
    except OSError:
        return None
    try:
        raw = json.loads(text)
    except ValueError:
        raise SettingsError(["%s is not JSON (%d bytes)" % (FILE_NAME, len(text))])
    return check(raw, folder)


def check(raw, folder=""):
    # raw dict -> settings dict with defaults filled in and ca_der loaded.
    if not isinstance(raw, dict):
        raise SettingsError(["%s must be a JSON object, got %r" % (FILE_NAME, raw)])
    errors = []
    s = {}
    for name in raw:
        if name not in _KNOWN:
            errors.append("%s: unknown field %r (known: %s)" % (FILE_NAME, name, ", ".join(_KNOWN)))
    tls = raw.get("tls", False)
    if not isinstance(tls, bool):
        errors.append("%s: tls=%r must be true or false" % (FILE_NAME, tls))
        tls = False
    s["tls"] = tls
    for name in _TEXTS:
        v = raw.get(name)
        if v is None and name in ("username", "ca_file"):
            s[name] = None
            continue
        if v is None and name == "prefix":
            v = "ampelwerk"
        if not isinstance(v, str) or not v:
            errors.append("%s: %s=%r must be non-empty text" % (FILE_NAME, name, v))
        elif name == "prefix" and ("/" in v or "+" in v or "#" in v):
            errors.append("%s: prefix=%r must not contain '/', '+' or '#'" % (FILE_NAME, v))
        s[name] = v
    for name in _INTS:
        low, high, default, unit = _INTS[name]
        if name == "port":
            default = 8883 if tls else 1883
        v = raw.get(name, default)
        if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
            errors.append("%s: %s=%r is outside %d..%d%s" % (FILE_NAME, name, v, low, high, unit))
        s[name] = v
    if (isinstance(s["reconnect_min_ms"], int) and isinstance(s["reconnect_max_ms"], int)
            and s["reconnect_min_ms"] > s["reconnect_max_ms"]):
        errors.append("%s: reconnect_min_ms=%r is above reconnect_max_ms=%r" % (
            FILE_NAME, s["reconnect_min_ms"], s["reconnect_max_ms"]))
    key = raw.get("plan_key")
    ok = isinstance(key, str) and len(key) == 64
    if ok:
        for ch in key:
            if ch not in "0123456789abcdefABCDEF":
                ok = False
                break
    if not ok:
        errors.append("%s: plan_key=%s must be 64 hex digits (the controller's 32-byte key)" % (
            FILE_NAME, ("%d characters" % len(key)) if isinstance(key, str) else repr(key)))
    s["plan_key"] = key  # never quoted in a message: it is a secret
    s["ca_der"] = None
    ca = s["ca_file"]
    if tls and ca is None:
        errors.append("%s: tls=true needs ca_file (the broker's CA certificate on flash)" % FILE_NAME)
    elif isinstance(ca, str) and ca:
        path = ca if ca.startswith("/") or folder in ("", ".") else folder.rstrip("/") + "/" + ca
        try:
            from firmware.mqtt_client import pem_to_der

            with open(path, "rb") as f:
                s["ca_der"] = pem_to_der(f.read())
        except OSError:
            errors.append("%s: ca_file=%r not found on flash (%s)" % (FILE_NAME, ca, path))
        except ValueError as e:
            errors.append("%s: ca_file=%r is not a certificate: %s" % (FILE_NAME, ca, e))
    if errors:
        raise SettingsError(errors)
    return s
