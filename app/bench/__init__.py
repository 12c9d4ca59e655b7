"""Benchmarks: ``scopeflow bench SCENARIO``. Each reports medians and side-by-side ratios."""
