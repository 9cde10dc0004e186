"""The package version, in a module of its own so that any module can import it without
importing the package root (``store/convert.py`` records it in every manifest).

pyproject.toml reads it from here (``[tool.hatch.version]``): this is its only copy.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
