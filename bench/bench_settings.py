"""Settings for bench/pages.py only: the portal's settings plus a bench URLconf with a bare Django view.

Never used in production: the bare view exists only in bench/bench_urls.py.
"""

from ibok.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Static files as in production (hashed names from a manifest), collected by bench/pages.py.
STATIC_ROOT = BASE_DIR / "bench" / "out" / "static"  # noqa: F405
# The API's limit per token (120 a minute) would answer a load test with 429s: lifted, still checked on every request.
IBOK_API_RATE = "100000000/m"
