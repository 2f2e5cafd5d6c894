"""A Bottle app with one route."""
import bottle

app = bottle.Bottle()


@app.route("/")
def index():
    bottle.response.content_type = "text/plain"
    return "Hello from Bottle"
