def list_products(conn, category):
    return conn.execute(
        "SELECT name, price FROM products WHERE category = ? ORDER BY price", (category,)
    ).fetchall()
