"""A streamed response: each chunk reaches the client as it is yielded.

    wsgo run examples/streaming.py
    curl -N http://127.0.0.1:8000/          # one line every half second
"""
import time


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def countdown():
        for n in range(5, 0, -1):
            yield b"%d...\n" % n
            time.sleep(0.5)
        yield b"liftoff!\n"

    return countdown()
