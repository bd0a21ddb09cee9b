import sqlite3


def find_user(conn: sqlite3.Connection, name: str):
    cursor = conn.cursor()
    cursor.execute(f"SELECT id, email FROM users WHERE name = '{name}'")
    return cursor.fetchone()
