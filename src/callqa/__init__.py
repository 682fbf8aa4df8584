"""callqa: offline speech and transcript quality assurance for contact centers."""

__version__ = "0.1.0"
