"""A Flask app: a route, a JSON response, and a POST read whole."""
import hashlib

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Hello from Flask"


@app.route("/json")
def as_json():
    return jsonify(framework="flask", ok=True, numbers=[1, 2, 3])


@app.route("/echo", methods=["POST"])
def echo():
    data = request.get_data()
    return "%d bytes, sha256 %s" % (len(data), hashlib.sha256(data).hexdigest())
