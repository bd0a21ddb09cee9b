def delete_comment(cursor, comment_id):
    sql = "DELETE FROM comments WHERE id = %s" % comment_id
    cursor.execute(sql)
