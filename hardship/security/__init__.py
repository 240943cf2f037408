"""Signing in (等保 level 3): lockout addresses, session limits, password age, two-factor codes, the sign-in
audit. An app of its own (hardship.security.apps) so its signal receivers connect at start-up."""
