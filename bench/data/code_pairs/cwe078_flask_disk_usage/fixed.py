import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/usage")
def usage():
    folder = request.args.get("dir", "/srv/data")
    done = subprocess.run(["du", "-sh", "--", folder], capture_output=True, text=True,
                          check=False)
    return done.stdout
