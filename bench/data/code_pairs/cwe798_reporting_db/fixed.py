import os

import psycopg2


def reporting_connection():
    return psycopg2.connect(host="db.internal", dbname="reports", user="reporter",
                            password=os.environ["REPORTS_DB_PASSWORD"])
