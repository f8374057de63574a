"""API token authentication that never mistakes a token for no token.

DRF's TokenAuthentication reads `Authorization: Token <key>` and ignores any other scheme,
so a client that sends its key as `Bearer <key>` (the default of generated OpenAPI clients
and of most HTTP libraries) is silently served as anonymous: it reads published records
only and cannot tell why its drafts are missing. Here `Bearer` is taken as well, and any
other scheme is refused with 401 and the form to use.

The keys are `accounts.ApiToken`s, kept hashed, each with an expiry (accounts/tokens.py): an
unknown, revoked or expired key is a 401 in JSON, like every API error.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from accounts.tokens import TokenRefused, authenticate_key

ACCEPTED_SCHEMES = (b"token", b"bearer")


class TokenOrBearerAuthentication(TokenAuthentication):
    keyword = "Token"  # what the schema and the token page show

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() not in ACCEPTED_SCHEMES:
            raise exceptions.AuthenticationFailed(
                "Unknown authorization scheme. Send 'Authorization: Token <key>' "
                "(or 'Bearer <key>')."
            )
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header. Send 'Authorization: Token <key>', with no spaces in "
                "the key."
            )
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token header. The key has characters a key never has."
            ) from None
        user_and_token = self.authenticate_credentials(key)
        # A token cannot confirm who holds it: the writes that need a fresh confirmation
        # (accounts/reauth.py) are refused under a token.
        request._request.api_token = True
        return user_and_token

    def authenticate_credentials(self, key):
        try:
            return authenticate_key(key)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
