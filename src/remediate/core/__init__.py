"""The lowest layer: errors, time, limits, files and state, validation, prompting, concurrency,
terminal-safe text and spinners."""
