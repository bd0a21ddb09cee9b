def search_orders(db, customer_id, status):
    query = "SELECT * FROM orders WHERE customer_id = ? AND status = ?"
    return db.execute(query, (customer_id, status)).fetchall()
