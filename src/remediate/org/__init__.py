"""The organization: its accounts and a session in each, the sweep, root credentials."""
