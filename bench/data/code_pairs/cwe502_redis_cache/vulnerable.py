import pickle

import redis

cache = redis.Redis(host="cache", port=6379)


def cached_profile(user_id):
    raw = cache.get(f"profile:{user_id}")
    return pickle.loads(raw) if raw else None
