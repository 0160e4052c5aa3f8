"""The reference: the smallest Flask app, served and loaded exactly like the portal."""
from flask import Flask

app = Flask(__name__)


@app.get("/ok")
def ok():
    return "ok"
