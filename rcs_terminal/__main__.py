"""``python -m rcs_terminal`` runs the command line."""

from rcs_terminal.cli import main

if __name__ == "__main__":
    main()
