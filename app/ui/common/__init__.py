"""Qt pieces every room of the window shares: threads and waiting, progress dialogs,
lifecycles (timers and graphics released with their window), the seams a part
receives instead of the window (``seams``), and small widgets. Imports no other room."""
