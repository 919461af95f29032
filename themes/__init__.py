"""Textual stylesheets (.tcss) and theme definitions for the console."""
