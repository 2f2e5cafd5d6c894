import syntax_helper  # noqa: F401

application = None
