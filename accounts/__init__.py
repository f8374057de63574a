"""Staff accounts: API tokens, login guard, session limits and the security log."""
