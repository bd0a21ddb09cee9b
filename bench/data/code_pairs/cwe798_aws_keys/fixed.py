import boto3


def s3():
    # credentials come from the environment or the instance role
    return boto3.client("s3")
