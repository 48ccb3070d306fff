"""Corridors partitioned over coordinator processes (shards). Host only.

A corridor file may name, per corridor, the ``shard`` (coordinator process)
that owns it. ``coordinator serve --shard NAME`` serves only those corridors
and subscribes only to their controllers' topics, so each process handles
only its own controllers' messages; topics, signatures and the broker ACL are
the same as with one process. Every process needs its own MQTT user (client
ids are tied to user names) and its own seq state file; the defaults for a
shard are below. Supervision (restart a process that died) is left to the
service manager (docs/coordination.md, "Sharded coordinators").
"""

from __future__ import annotations

from coordinator.corridors import Corridor, CorridorError


def shard_names(corridors: list[Corridor]) -> list[str]:
    """The shard names a corridor file uses, sorted ("" for corridors without one is left out)."""
    return sorted({c.shard for c in corridors if c.shard})


def select_shard(corridors: list[Corridor], name: str, source: str = "") -> list[Corridor]:
    """The corridors shard ``name`` owns; CorridorError when it owns none or some corridor has no shard.

    A corridor without a shard would be served by no process once the corridors are sharded, so with
    a shard given every corridor must name one.
    """
    errors = []
    unassigned = [c.id for c in corridors if not c.shard]
    if unassigned:
        errors.append("corridor%s %s name%s no shard: with --shard every corridor needs \"shard\": NAME, "
                      "else no coordinator serves it" % ("s" if len(unassigned) > 1 else "", ", ".join(unassigned),
                                                         "" if len(unassigned) > 1 else "s"))
    mine = [c for c in corridors if c.shard == name]
    if not mine:
        errors.append("shard %r owns no corridor (shards in the file: %s)" % (name, ", ".join(shard_names(corridors))
                                                                             or "none"))
    if errors:
        raise CorridorError(errors, source)
    return mine


def shard_user(name: str) -> str:
    """Default MQTT user of shard ``name``'s coordinator process."""
    return "coordinator-%s" % name


def shard_state_path(state_path: str, name: str) -> str:
    """Default seq state file of a shard: ``coordinator-state.json`` -> ``coordinator-state-NAME.json``."""
    stem, dot, ext = state_path.rpartition(".")
    if not dot or "/" in ext:
        return "%s-%s" % (state_path, name)
    return "%s-%s.%s" % (stem, name, ext)
