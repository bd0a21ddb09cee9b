def search_orders(db, customer_id, status):
    query = "SELECT * FROM orders WHERE customer_id = " + str(customer_id)
    query += " AND status = '" + status + "'"
    return db.execute(query).fetchall()
