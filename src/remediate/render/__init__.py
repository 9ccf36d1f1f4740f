"""What people and scripts read: text views and JSON documents (imported by commands only)."""
