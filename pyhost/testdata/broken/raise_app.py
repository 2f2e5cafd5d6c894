import raise_helper  # noqa: F401

application = None
