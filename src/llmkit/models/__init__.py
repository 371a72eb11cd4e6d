"""Model catalog, embedded assets, and loading."""
