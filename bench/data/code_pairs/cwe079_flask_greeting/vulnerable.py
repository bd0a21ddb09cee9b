from flask import Flask, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "<h1>Hello " + request.args.get("name", "") + "</h1>"
