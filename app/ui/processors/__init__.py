"""Processors and scripts: the Processors panel with its parameter forms and time
plot, the Scripts panel and editor, the console, and replaying processors over a
dataset."""
