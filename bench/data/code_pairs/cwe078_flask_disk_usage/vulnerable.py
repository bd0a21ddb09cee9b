from os import popen

from flask import Flask, request

app = Flask(__name__)


@app.route("/usage")
def usage():
    folder = request.args.get("dir", "/srv/data")
    return popen(f"du -sh {folder}").read()
