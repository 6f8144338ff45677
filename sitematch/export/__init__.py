"""Exports of a match: interactive map (``map``), tables (``tables``), dossier (``dossier``)."""
