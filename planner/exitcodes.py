"""Exit codes of every command (README: Commands)."""

EXIT_OK, EXIT_OTHER, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2, 3
