"""SUMO studies: import a net's traffic lights into controller configs, lay loop
detectors, bundled and fetched scenarios, run the loop, peers, metrics, reports.
Host code (CPython); never on the board."""
