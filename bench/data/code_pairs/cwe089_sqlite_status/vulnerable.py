import sqlite3


def set_status(db_path, order_id, status):
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE orders SET status = '{}' WHERE id = {}".format(status, order_id))
    conn.close()
