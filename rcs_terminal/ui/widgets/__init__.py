"""The TUI's widgets: each owns its look (``DEFAULT_CSS``) and the messages it posts."""
