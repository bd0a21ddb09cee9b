def delete_comment(cursor, comment_id):
    sql = "DELETE FROM comments WHERE id = %s"
    cursor.execute(sql, (comment_id,))
