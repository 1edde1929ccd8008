"""guapai tui — the interactive board (Textual). Textual is imported only when the board opens."""
