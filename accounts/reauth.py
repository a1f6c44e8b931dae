"""The guard for sensitive changes: the password (or the second factor) again when the sign-in is older than
ACCOUNT_REAUTHENTICATION_TIMEOUT (five minutes).

allauth's own mechanism: the guarded view raises ReauthenticationRequired, allauth's AccountMiddleware keeps the
request (a POST with its data) and sends the user to `account_reauthenticate` (or the second factor's page), and
the kept request is carried out once they confirm. allauth guards its own e-mail and second-factor pages with it
(ACCOUNT_REAUTHENTICATION_REQUIRED); the portal's own sensitive views take `reauthentication_required` below: the
contact data with the SMS phone, the phone's verification, and any future page that creates an API token.
"""

from allauth.account.decorators import reauthentication_required as _allauth_reauthentication_required

reauthentication_required = _allauth_reauthentication_required(app="allauth.account")
