"""Ampelwerk: the front door (`ampelwerk <area> <verb>`)."""


def __getattr__(name: str) -> str:
    # __version__, read when first asked for: its one source is pyproject.toml, through the installed
    # package's metadata (importlib.metadata takes ~25 ms to import; `ampelwerk --help` does without it)
    if name != "__version__":
        raise AttributeError("module 'ampelwerk' has no attribute %r" % name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ampelwerk")
    except PackageNotFoundError:  # a checkout that was never installed (pip install -e .)
        return "0+unknown"
