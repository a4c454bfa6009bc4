"""The commands of ``rcs-terminal``, one module per concern; :mod:`rcs_terminal.cli` wires them."""
