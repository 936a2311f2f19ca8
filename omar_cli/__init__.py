"""OMAR: a command-line assistant for technicians servicing ABB ACS150 drives."""

__version__ = "0.1.0"
