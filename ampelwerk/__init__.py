"""Ampelwerk: the front door (`ampelwerk <area> <verb>`)."""

__version__ = "0.1.0"
