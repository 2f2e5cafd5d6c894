class Registry:
    @staticmethod
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"from registry.app\n"]


registry = Registry()
