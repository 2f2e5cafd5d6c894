"""Two shapes PEP 3333 allows besides a function.

    wsgo run examples/callable_class.py              # a callable instance: `application`
    wsgo run examples/callable_class.py:AppClass     # a class: each request makes an instance
"""


class Counter:
    """An instance with __call__: state lives between requests."""

    def __init__(self):
        self.hits = 0

    def __call__(self, environ, start_response):
        self.hits += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"request number %d\n" % self.hits]


application = Counter()


class AppClass:
    """PEP 3333's class-as-application: calling the class returns the iterable."""

    def __init__(self, environ, start_response):
        self.environ = environ
        self.start = start_response

    def __iter__(self):
        self.start("200 OK", [("Content-Type", "text/plain")])
        yield b"Hello from a class\n"
