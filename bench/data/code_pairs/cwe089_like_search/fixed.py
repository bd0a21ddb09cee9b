def search(conn, term):
    cur = conn.cursor()
    cur.execute("SELECT title FROM posts WHERE title LIKE ?", (f"%{term}%",))
    return cur.fetchall()
