from sqlalchemy import text


def count_by_country(session, country):
    return session.execute(text(f"SELECT count(*) FROM users WHERE country = '{country}'"))
