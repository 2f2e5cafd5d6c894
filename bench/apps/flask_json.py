from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Hello, world!", items=list(range(10)), ok=True)


application = app
