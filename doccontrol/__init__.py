"""doccontrol: document control as code for ISO-style management systems."""

__version__ = "0.1.0"
