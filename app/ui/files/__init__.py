"""Files: opening datasets and TIFFs, saving what is kept in memory, saving, exporting
and copying images."""
