from sqlalchemy import text


def count_by_country(session, country):
    return session.execute(text("SELECT count(*) FROM users WHERE country = :c"),
                           {"c": country})
