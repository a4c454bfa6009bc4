"""Sans-I/O protocol core: bytes and the current time in, objects, events and bytes out."""
