import os

import psycopg


def connect():
    password = os.environ["APP_DB_PASSWORD"]
    return psycopg.connect(host="db", user="app", password=password)
