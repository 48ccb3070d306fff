"""Ampelwerk's central coordinator: corridor plans (cycle, splits, offsets), signed and published over MQTT."""
