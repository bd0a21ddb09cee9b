def invoices_for(conn, tenant, year):
    query = "SELECT id, total FROM invoices WHERE tenant = %s AND year = %s"
    with conn.cursor() as cur:
        cur.execute(query, (tenant, year))
        return cur.fetchall()
