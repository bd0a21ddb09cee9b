import psycopg


def connect():
    password = "Sup3rS3cret!"
    return psycopg.connect(host="db", user="app", password=password)
