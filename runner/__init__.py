"""XC Scenario container runner: runs every XC Scenario task as a short-lived container."""

__version__ = "0.1.0"
