"""InProcessBus: MQTT filter matching, deterministic order, retained messages."""

from coordinator.bus import InProcessBus, parse_broker_url, topic_matches, BusError
import pytest


def test_topic_matching():
    assert topic_matches("ampelwerk/+/report", "ampelwerk/J1/report")
    assert not topic_matches("ampelwerk/+/report", "ampelwerk/J1/plan")
    assert not topic_matches("ampelwerk/+/report", "ampelwerk/J1/x/report")
    assert topic_matches("ampelwerk/#", "ampelwerk/J1/report")
    assert topic_matches("ampelwerk/#", "ampelwerk")
    assert topic_matches("#", "a/b")
    assert not topic_matches("ampelwerk/J1", "ampelwerk/J1/plan")
    assert not topic_matches("ampelwerk/J1/plan", "ampelwerk/J1")


def test_nested_publish_is_delivered_after_current_in_order():
    bus = InProcessBus()
    seen = []

    def a(t, p):
        seen.append(("a", t, p))
        if t == "x/1":
            bus.publish("x/2", b"from-a")

    def b(t, p):
        seen.append(("b", t, p))

    bus.subscribe("x/+", a)
    bus.subscribe("x/#", b)
    bus.publish("x/1", b"p")
    assert seen == [("a", "x/1", b"p"), ("b", "x/1", b"p"), ("a", "x/2", b"from-a"), ("b", "x/2", b"from-a")]


def test_retained_reaches_late_subscriber_and_empty_clears():
    bus = InProcessBus()
    bus.publish("p/J1/plan", b"one", retain=True)
    bus.publish("p/J1/plan", b"two", retain=True)
    got = []
    bus.subscribe("p/+/plan", lambda t, p: got.append(p))
    assert got == [b"two"]
    bus.publish("p/J1/plan", b"", retain=True)
    late = []
    bus.subscribe("p/+/plan", lambda t, p: late.append(p))
    assert late == []
    with pytest.raises(ValueError):
        bus.publish("p/+/plan", b"x")


def test_broker_url():
    assert parse_broker_url("mqtt://127.0.0.1:1884") == ("127.0.0.1", 1884, False)
    assert parse_broker_url("mqtts://broker.example") == ("broker.example", 8883, True)
    with pytest.raises(BusError, match="expected mqtt://"):
        parse_broker_url("http://x")
