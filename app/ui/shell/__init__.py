"""The shell that holds the rooms together: the main window (it assembles the parts
and wires them), its menus and docks, the status line, the Log panel, the window's
settings, Help, the entry point and the self-test."""
