class Counter:
    def __init__(self):
        self.hits = 0

    def __call__(self, environ, start_response):
        self.hits += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"instance call %d\n" % self.hits]


instance = Counter()


class ClassApp:
    """PEP 3333 class-as-application: calling the class returns the iterable."""

    def __init__(self, environ, start_response):
        self.path = environ["PATH_INFO"]
        self.start = start_response

    def __iter__(self):
        self.start("200 OK", [("Content-Type", "text/plain")])
        yield b"class app at "
        yield self.path.encode()
        yield b"\n"
