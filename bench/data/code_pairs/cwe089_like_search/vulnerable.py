def search(conn, term):
    cur = conn.cursor()
    cur.execute("SELECT title FROM posts WHERE title LIKE '%" + term + "%'")
    return cur.fetchall()
