import psycopg2


def reporting_connection():
    return psycopg2.connect(host="db.internal", dbname="reports", user="reporter",
                            password="Rep0rt!ng-2024")
