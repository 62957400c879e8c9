"""The vocabulary of the house: state objects, enums, the permission catalog, the errors.

Every other layer imports its words from here; this package imports only the standard library,
so it can be read (and type-checked) on its own. See docs/architecture.md.
"""
