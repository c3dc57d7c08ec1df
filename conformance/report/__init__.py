"""Certification reports: collect pytest results per case, aggregate, write JSON/JUnit/HTML."""
