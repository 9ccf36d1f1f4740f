"""Passwords, the keyring store of generated secrets, and TOTP (virtual MFA)."""
