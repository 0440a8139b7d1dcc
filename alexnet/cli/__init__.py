"""The commands: their process policy (exit codes, one-line errors), describe and interpret."""
