"""One router per resource: layers, profiles, matches, plots, OGC API Features, accounts, pages."""
