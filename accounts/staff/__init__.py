"""The staff's pages of the accounts app: the security log (admin role only)."""
