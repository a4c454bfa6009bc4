#!/usr/bin/env python3
"""Write the JSON Schema of device profiles, for editors (YAML language servers).

    scripts/export_profile_schema.py [OUTPUT]

OUTPUT defaults to ``profiles/profile.schema.json`` beside the built-in profiles, which
reference it in their first line (``# yaml-language-server: $schema=profile.schema.json``).
``rcs-terminal profile schema -o FILE`` writes the same document; a test checks that the
committed file is current, so run this after changing the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rcs_terminal.domain.profile import profile_json_schema

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "profiles" / "profile.schema.json"


def render_schema() -> str:
    """The schema as the text written to the file (stable key order, final newline)."""
    return json.dumps(profile_json_schema(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Write the schema to ``argv[0]`` or the default path; return the exit status."""
    if len(argv) > 1 or (argv and argv[0] in ("-h", "--help")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
