"""One module per command: a checked request in, services built, the result rendered, an exit
code out."""
