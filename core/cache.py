"""Django's Redis cache that fails open: while Redis is away a read is a miss and a write is dropped, so pages
keep answering (sessions fall back to PostgreSQL under `cached_db`, rate limits and cached fragments are simply not
there) instead of raising. Every failure is logged; /health/ turns red on the cache check meanwhile."""

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
# What each method answers while Redis is away: a miss, nothing counted; an add "succeeds" (a lock or a throttle
# taken with it does not shut everyone out: allauth's rate limiter waits for its lock, then answers 429).
FALLBACKS: dict[str, Any] = {
    "get": None, "add": True, "set": None, "touch": False, "delete": False, "get_many": {}, "has_key": False,
    "incr": 0, "decr": 0, "set_many": [], "delete_many": None, "clear": None, "get_or_set": None,
}  # fmt: skip


class FailOpenRedisCache(RedisCache):
    def _fail_open(self, name: str, *args, **kwargs):
        try:
            return getattr(super(), name)(*args, **kwargs)
        except REDIS_DOWN as exc:
            logger.warning("cache unavailable, %s answered as a miss: %s", name, exc)
            if name == "get":
                return kwargs.get("default", args[1] if len(args) > 1 else None)
            if name == "get_or_set":
                default = kwargs.get("default", args[1] if len(args) > 1 else None)
                return default() if callable(default) else default
            return FALLBACKS[name]

    def get(self, *args, **kwargs):
        return self._fail_open("get", *args, **kwargs)

    def add(self, *args, **kwargs):
        return self._fail_open("add", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._fail_open("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._fail_open("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._fail_open("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._fail_open("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._fail_open("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._fail_open("incr", *args, **kwargs)

    def decr(self, *args, **kwargs):
        return self._fail_open("decr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._fail_open("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._fail_open("delete_many", *args, **kwargs)

    def get_or_set(self, *args, **kwargs):
        return self._fail_open("get_or_set", *args, **kwargs)
