"""District brokers bridged to a central broker: the mosquitto config the project writes. Host only.

Beyond one broker host, controllers connect to the broker of their district
(corridor file: ``"district": NAME`` per corridor) and the coordinators to a
central broker. Each district broker runs a mosquitto bridge (its own
feature: a client connection to the central broker that forwards chosen
topics) with, per controller of the district, its report, plan status and
status topics out and its plan topic in, QoS 1 and a persistent session both
ways, so messages sent while the link is down are queued and delivered. The
central broker knows each bridge as the user ``bridge-NAME``, which may write
only its district's controllers' topics and read only their plans (central
ACL below): a district broker lost to an attacker can speak for its own
controllers only, as a controller can for itself. Topics, payloads and
signatures are those of one broker; plans are still checked by each
controller with its own key. The layout and a tested failover are in
docs/coordination.md ("District brokers").
"""

from __future__ import annotations

from coordinator.corridors import Corridor
from coordinator.local_broker import controller_acl

CONNECTION_NAME = "ampelwerk-central"
OUT_KINDS = ("report", "plan_status", "status", "priority_status")  # controller -> coordinator
IN_KINDS = ("plan", "priority")  # coordinator -> controller


def district_controllers(corridors: list[Corridor]) -> dict[str, list[str]]:
    """District name -> its controllers, in corridor file order (corridors without a district are left out)."""
    result: dict[str, list[str]] = {}
    for c in corridors:
        if c.district:
            result.setdefault(c.district, []).extend(c.controller_ids())
    return result


def bridge_user(district: str) -> str:
    """The central broker's user (and client id) for district ``district``'s bridge."""
    return "bridge-%s" % district


def bridge_config(district: str, controller_ids: list[str], central_host: str, central_port: int, password: str,
                  prefix: str = "ampelwerk", ca_file: str | None = None, restart_s: tuple[int, int] = (1, 30),
                  keepalive_s: int = 20) -> str:
    """The mosquitto.conf section of district ``district``'s broker that bridges it to the central broker.

    ``ca_file``: the CA to trust for a TLS connection to the central broker (None: plain MQTT, only on a
    trusted network). ``restart_s``: mosquitto's reconnect back-off, first and longest wait in s.
    The text holds the bridge's password: keep the file private (mode 0600).
    """
    user = bridge_user(district)
    lines = ["# ampelwerk: bridge of district %s to the central broker (coordinator/broker_config.py)" % district,
             "connection %s" % CONNECTION_NAME,
             "address %s:%d" % (central_host, central_port),
             "bridge_protocol_version mqttv311",
             "remote_username %s" % user,
             "remote_password %s" % password,
             "remote_clientid %s" % user,  # the central broker ties client ids to user names anyway
             "local_clientid %s-local" % user,
             "cleansession false",  # persistent sessions both ways: what is sent while the link is down waits
             "try_private true",  # retained plans stay retained across the bridge
             "notifications false",  # no $SYS/... status topics on the central broker (its ACL refuses them)
             "keepalive_interval %d" % keepalive_s,
             "restart_timeout %d %d" % restart_s,
             "start_type automatic"]
    if ca_file:
        lines.append("bridge_cafile %s" % ca_file)
    for cid in controller_ids:
        lines += ["topic %s/%s/%s out 1" % (prefix, cid, kind) for kind in OUT_KINDS]
        lines += ["topic %s/%s/%s in 1" % (prefix, cid, kind) for kind in IN_KINDS]
    return "\n".join(lines) + "\n"


def central_acl(districts: dict[str, list[str]], prefix: str = "ampelwerk",
                coordinator_users: tuple[str, ...] = ("coordinator",)) -> str:
    """ACL text of the central broker: the coordinators' and controllers' rules (controllers that connect to
    it directly), and per district bridge its own controllers' topics only."""
    lines = [controller_acl(prefix, coordinator_users)]
    for district, ids in districts.items():
        lines.append("user %s" % bridge_user(district))
        for cid in ids:
            lines += ["topic write %s/%s/%s" % (prefix, cid, kind) for kind in OUT_KINDS]
            lines += ["topic read %s/%s/%s" % (prefix, cid, kind) for kind in IN_KINDS]
        lines.append("")
    return "\n".join(lines) + "\n"


def district_acl(prefix: str = "ampelwerk") -> str:
    """ACL text of a district broker: each controller its own topics (no coordinator connects here)."""
    return controller_acl(prefix, coordinator_users=())
