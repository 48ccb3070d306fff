"""The hardware-in-the-loop bench: serial link, device proxy, conformance suites, reports."""
