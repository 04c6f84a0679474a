"""Residue scanners, one module per kind of store."""

from .residue import Hit, Residue
from .scanner import ResidueScanner, scanner_for

__all__ = ["Hit", "Residue", "ResidueScanner", "scanner_for"]
