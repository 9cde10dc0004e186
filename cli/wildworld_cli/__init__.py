"""Thin command-line front ends for wildworld and wildbench (import name ``wildworld_cli``)."""
