"""bc-tui: couple and synchronize Business Central and Dataverse records from the terminal."""

__version__ = "0.1.0"
