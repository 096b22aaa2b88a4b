"""Thin HTTP routes: each parses its parameters and calls one library function."""
