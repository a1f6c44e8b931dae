"""Django's database sessions, read on PostgreSQL by one prepared statement instead of an ORM query.

Every signed-in page reads its session first; the ORM's building and compiling of that one query cost as much
Python as PostgreSQL's answer (core.db). Writing, expiry and clearing stay Django's own.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from core import db

# The twin of DatabaseSessionStore._get_session_from_db (tests/core/test_sql_twins.py compares the two).
_SESSION_SQL = """
SELECT session_key, session_data, expire_date FROM django_session
WHERE session_key = %(key)s AND expire_date > %(now)s
"""


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        if not db.sql_twins_enabled():
            return super()._get_session_from_db()
        rows = db.fetch(_SESSION_SQL, {"key": self.session_key, "now": timezone.now()})
        if not rows:
            self._session_key = None  # as Django does: a missing or expired session starts a new one
            return None
        key, data, expire_date = rows[0]
        return self.model(session_key=key, session_data=data, expire_date=expire_date)
