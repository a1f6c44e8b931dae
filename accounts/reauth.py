"""The guard for sensitive changes: the password (or the second factor) again when the sign-in is older than
ACCOUNT_REAUTHENTICATION_TIMEOUT (five minutes).

allauth's own mechanism: the guarded view raises ReauthenticationRequired, allauth's AccountMiddleware keeps the
request (a POST with its data) and sends the user to `account_reauthenticate` (or the second factor's page), and
the kept request is carried out once they confirm. allauth guards its own e-mail and second-factor pages with it
(ACCOUNT_REAUTHENTICATION_REQUIRED); the portal's own sensitive views take `reauthentication_required` below: the
contact data with the SMS phone, the phone's verification, and any future page that creates an API token.
"""

from allauth.account.decorators import reauthentication_required as _allauth_reauthentication_required
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.http import HttpRequest

reauthentication_required = _allauth_reauthentication_required(app="allauth.account")


def sign_in_counts_as_reauthentication(request: HttpRequest) -> None:
    """Mark the sign-in's own steps (password, second factor, passkey) as a re-authentication at their moment.

    allauth counts only an explicit re-authentication, so it would ask for the password right after signing in;
    the portal asks only when the sign-in is older than the timeout. Called when the user is signed in.
    """
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
    if records:
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [dict(record, reauthenticated=True) for record in records]
