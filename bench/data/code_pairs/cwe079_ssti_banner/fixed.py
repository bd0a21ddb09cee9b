from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/banner")
def banner():
    title = request.args.get("title", "Welcome")
    return render_template_string("<div class='banner'>{{ title }}</div>", title=title)
