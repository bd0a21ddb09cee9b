def invoices_for(conn, tenant, year):
    query = f"SELECT id, total FROM invoices WHERE tenant = '{tenant}' AND year = {year}"
    with conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()
